using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Digests.DigestTestData;

namespace PprnetNewsletter.Tests.Digests;

public class DigestPreviewTests
{
    static DigestPreview Preview(TestApp test) => ActivatorUtilities.CreateInstance<DigestPreview>(test.App.Services, Factory(test));

    [Fact]
    public async Task A_reader_of_two_topics_gets_exactly_the_tagged_summaries_and_the_rest_under_also_this_month()
    {
        await using var test = await TestApp.CreateAsync();
        await SeedAsync(test);
        var folder = Path.Combine(test.Folder, "preview");

        var outcome = await Preview(test).WriteAsync(Month, "ANN.SMITH@example.org", folder);

        var eml = Path.Combine(folder, "ann.smith@example.org.eml");
        Assert.Equal([eml, Path.ChangeExtension(eml, ".html"), Path.ChangeExtension(eml, ".txt")], outcome.Files);
        var message = await MimeMessage.LoadAsync(eml);
        Assert.Equal(message.HtmlBody, await File.ReadAllTextAsync(Path.ChangeExtension(eml, ".html")));
        Assert.Equal(message.TextBody, await File.ReadAllTextAsync(Path.ChangeExtension(eml, ".txt")));
        Assert.Equal("PPRNet research digest, March 2023: 2 summaries on your topics", message.Subject);

        foreach (var body in new[] { message.HtmlBody!, message.TextBody! })
        {
            var also = body.IndexOf(body == message.HtmlBody ? "Also this month" : "ALSO THIS MONTH", StringComparison.Ordinal);
            Assert.True(also > 0);
            Assert.InRange(body.IndexOf(Mentalize, StringComparison.Ordinal), 0, also);
            Assert.InRange(body.IndexOf(Alliance, StringComparison.Ordinal), 0, also);
            Assert.True(body.IndexOf(NegativeEffects, StringComparison.Ordinal) > also);
            Assert.Equal(1, CountOf(body, NegativeEffects));
        }
        Assert.Equal("1.0", message.Headers[HeaderId.MimeVersion]);
        Assert.NotNull(message.Headers["List-Unsubscribe"]);
        Assert.Contains(outcome.Report, line => line.Contains("Subject: PPRNet research digest", StringComparison.Ordinal));
    }

    [Fact]
    public async Task No_match_says_so_and_writes_nothing()
    {
        await using var test = await TestApp.CreateAsync();
        await SeedAsync(test);
        var folder = Path.Combine(test.Folder, "preview");

        var outcome = await Preview(test).WriteAsync(Month, "carol@example.org", folder);

        Assert.Null(outcome.Message);
        Assert.Empty(outcome.Files);
        Assert.False(Directory.Exists(folder));
        Assert.Contains(outcome.Report, line => line.Contains("no summary on their topics in March 2023", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_subscriber_who_would_not_receive_it_is_previewed_with_a_warning()
    {
        await using var test = await TestApp.CreateAsync();
        await SeedAsync(test);

        var outcome = await Preview(test).WriteAsync(Month, "dan@example.org", Path.Combine(test.Folder, "preview"));

        Assert.NotNull(outcome.Message);
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

        var error = await Assert.ThrowsAsync<UsageException>(() => Preview(test).WriteAsync(month, email, Path.Combine(test.Folder, "preview")));

        Assert.Contains(message, error.Message);
    }

    static int CountOf(string text, string value) => (text.Length - text.Replace(value, "").Length) / value.Length;
}
