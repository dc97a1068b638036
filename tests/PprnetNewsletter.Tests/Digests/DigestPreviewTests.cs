using System.CommandLine;
using MimeKit;
using PprnetNewsletter.Content;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Digests.DigestTestData;

namespace PprnetNewsletter.Tests.Digests;

public class DigestPreviewTests
{
    /// <summary>The repository's sample content: January 2023 has three summaries.</summary>
    static string SampleMonth(string month) => Path.Combine(Content.ContentFixtures.SampleFolder, month);

    [Fact]
    public async Task The_preview_verb_gives_a_reader_of_two_topics_exactly_the_tagged_summaries_and_the_rest_under_also_this_month()
    {
        await using var test = await TestApp.CreateAsync();
        await test.Get<SummaryImporter>().ImportAsync(SampleMonth("2023-01"));
        var topics = test.Get<TopicCatalog>();
        var ids = new[] { (await topics.FindAsync("Empathy"))!.Id, (await topics.FindAsync("outcomes-and-deterioration"))!.Id };
        await test.Get<ISubscriberStore>().AddAsync(
            new NewSubscriber("ann.smith@example.org", "Dr. Ann Smith", TopicSelection.Of(ids)), ConsentContext.Admin);
        var folder = Path.Combine(test.Folder, "preview");

        var exit = await test.RunCliAsync("digest", "preview", "2023-01", "--email", "Ann.Smith@example.org", "--out", folder);

        Assert.Equal(ExitCodes.Success, exit);
        var eml = Path.Combine(folder, "ann.smith@example.org.eml");
        var message = await MimeMessage.LoadAsync(eml);
        Assert.Equal(message.HtmlBody, await File.ReadAllTextAsync(Path.ChangeExtension(eml, ".html")));
        Assert.Equal(message.TextBody, await File.ReadAllTextAsync(Path.ChangeExtension(eml, ".txt")));
        Assert.Equal("PPRNet research digest, January 2023: 2 summaries on your topics", message.Subject);
        const string Covid = "The Impact of COVID-19 on Mental Health Workers’ Well-Being";           // Empathy
        const string Humility = "Working Alliance and Therapist Cultural Humility Reduce the Impact of Microaggressions"; // Outcomes
        const string Broaching = "Ways to Address Cultural Topics in Psychotherapy";                   // neither
        foreach (var (body, heading) in new[] { (message.HtmlBody!, "Also this month"), (Unwrapped(message.TextBody!), "ALSO THIS MONTH") })
        {
            var also = body.IndexOf(heading, StringComparison.Ordinal);
            Assert.True(also > 0);
            Assert.InRange(body.IndexOf(Covid, StringComparison.Ordinal), 0, also);
            Assert.InRange(body.IndexOf(Humility, StringComparison.Ordinal), body.IndexOf(Covid, StringComparison.Ordinal), also);
            Assert.True(body.IndexOf(Broaching, StringComparison.Ordinal) > also);
            Assert.Equal(1, CountOf(body, Broaching));
        }
        Assert.Equal(2, CountOf(message.HtmlBody!, "Practice Implications"));
        Assert.Contains("https://news.example.org/archive/2023-01#broaching-cultural-topics", message.HtmlBody);
        Assert.Equal("List-Unsubscribe=One-Click", message.Headers["List-Unsubscribe-Post"]);
    }

    [Fact]
    public async Task No_match_says_so_and_writes_nothing()
    {
        await using var test = await TestApp.CreateAsync();
        await SeedAsync(test);
        var folder = Path.Combine(test.Folder, "preview");

        var outcome = await test.Get<DigestPreview>().WriteAsync(Month, "carol@example.org", folder);

        Assert.Null(outcome.Message);
        Assert.Empty(outcome.Files);
        Assert.False(Directory.Exists(folder));
        Assert.Contains(outcome.Report, line => line.Contains("no summary on their topics in March 2023", StringComparison.Ordinal));
        Assert.Equal(ExitCodes.Success, await test.RunCliAsync("digest", "preview", Month, "--email", "carol@example.org", "--out", folder));
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public async Task A_subscriber_who_would_not_receive_it_is_previewed_with_a_warning()
    {
        await using var test = await TestApp.CreateAsync();
        await SeedAsync(test);
        var folder = Path.Combine(test.Folder, "preview");

        var outcome = await test.Get<DigestPreview>().WriteAsync(Month, "dan@example.org", folder);

        Assert.NotNull(outcome.Message);
        Assert.Equal(["dan@example.org.eml", "dan@example.org.html", "dan@example.org.txt"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());
        Assert.Contains(outcome.Report, line => line.Contains("dan@example.org is pending, so they would not receive this edition", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("2023-04", "ann.smith@example.org", "There is no edition for 2023-04")]
    [InlineData("2023-3", "ann.smith@example.org", "'2023-3' is not a month")]
    [InlineData("2023-03", "nobody@example.org", "No subscriber has the address 'nobody@example.org'")]
    public async Task An_unknown_month_or_address_is_bad_input(string month, string email, string message)
    {
        await using var test = await TestApp.CreateAsync();
        await SeedAsync(test);
        var folder = Path.Combine(test.Folder, "preview");

        var error = await Assert.ThrowsAsync<UsageException>(() => test.Get<DigestPreview>().WriteAsync(month, email, folder));

        Assert.Contains(message, error.Message);
        Assert.Equal(ExitCodes.BadInput, await test.RunCliAsync("digest", "preview", month, "--email", email, "--out", folder));
        Assert.False(Directory.Exists(folder));
    }

    static int CountOf(string text, string value) => (text.Length - text.Replace(value, "").Length) / value.Length;

    static string Unwrapped(string text) => System.Text.RegularExpressions.Regex.Replace(text.Replace("\r\n", "\n"), @"(?<=\S)\n(?=[ ]*\S)[ ]*", " ");
}
