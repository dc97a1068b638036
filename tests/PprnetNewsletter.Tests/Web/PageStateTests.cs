using System.Net;
using System.Text;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Web;

/// <summary>What the pages say about where things stand: HEAD like GET, the unsubscribe page after the fact, current topics, the archive's links.</summary>
public class PageStateTests
{
    [Fact]
    public async Task Head_on_every_public_page_answers_as_get_does_without_a_body()
    {
        await using var test = await TestApp.StartWebAsync();
        await SampleContent.ImportAsync(test);
        var ana = await test.Get<ISubscriberStore>().AddAsync(new NewSubscriber("ana@example.org", "Ana", TopicSelection.All), ConsentContext.Admin);
        await test.Get<EditionSender>().SendAsync("2023-03");
        var links = test.Get<LinkTokens>();
        using var monitor = test.CreateClient();

        foreach (var path in new[]
        {
            "", "archive", "archive/2023-03", "health", "site.css", "archive/2023-01",
            "preferences/" + links.Create(ana.Id, LinkPurpose.Preferences), "u/" + links.Create(ana.Id, LinkPurpose.Unsubscribe),
        })
        {
            var get = await monitor.GetAsync(path);
            var head = await monitor.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

            Assert.True(get.StatusCode == head.StatusCode, $"/{path}: GET {get.StatusCode}, HEAD {head.StatusCode}");
            Assert.Equal(get.Content.Headers.ContentType?.ToString(), head.Content.Headers.ContentType?.ToString());
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
            Assert.NotEmpty(await get.Content.ReadAsByteArrayAsync());
        }
        // A HEAD of the unsubscribe link, like its GET, changes nothing.
        Assert.Equal(SubscriberStatus.Confirmed, (await test.Get<ISubscriberStore>().GetAsync(ana.Id))!.Status);
    }

    [Fact]
    public async Task After_a_one_click_unsubscribe_the_link_shows_that_the_reader_is_unsubscribed()
    {
        await using var test = await TestApp.StartWebAsync();
        var ana = await test.Get<ISubscriberStore>().AddAsync(new NewSubscriber("ana@example.org", "Ana", TopicSelection.All), ConsentContext.Admin);
        var url = "u/" + test.Get<LinkTokens>().Create(ana.Id, LinkPurpose.Unsubscribe);
        using var client = test.CreateClient();
        Assert.Contains("Press the button to stop receiving", await client.GetStringAsync(url));

        var post = await client.PostAsync(url, new StringContent("List-Unsubscribe=One-Click", Encoding.ASCII, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);

        var after = await client.GetStringAsync(url);
        Assert.Contains("<h1>You are unsubscribed</h1>", after);
        Assert.DoesNotContain("Press the button", after);
        Assert.DoesNotContain("<button", after);
    }

    [Fact]
    public async Task The_preference_centre_summarises_the_current_topics_at_the_top()
    {
        await using var test = await TestApp.StartWebAsync();
        var store = test.Get<ISubscriberStore>();
        var choices = test.Get<TopicChoices>();
        var ana = await store.AddAsync(new NewSubscriber("ana@example.org", "Ana", await choices.ParseAsync("training,empathy")), ConsentContext.Admin);
        var bo = await store.AddAsync(new NewSubscriber("bo@example.org", "Bo", TopicSelection.All), ConsentContext.Admin);
        using var client = test.CreateClient();
        var links = test.Get<LinkTokens>();

        var anaPage = await client.GetStringAsync("preferences/" + links.Create(ana.Id, LinkPurpose.Preferences));
        var boPage = await client.GetStringAsync("preferences/" + links.Create(bo.Id, LinkPurpose.Preferences));

        var summary = Section(anaPage, "current-topics");
        Assert.Contains("<li>Empathy</li>", summary);
        Assert.Contains("<li>Training</li>", summary);
        Assert.Equal(2, summary.Split("<li>").Length - 1);
        Assert.True(anaPage.IndexOf("current-topics", StringComparison.Ordinal) < anaPage.IndexOf("<form", StringComparison.Ordinal));
        Assert.Contains("All topics, including topics added later.", Section(boPage, "current-topics"));
    }

    [Fact]
    public async Task The_archive_links_each_title_to_its_summary_and_invites_readers_to_subscribe()
    {
        await using var test = await TestApp.StartWebAsync();
        await SampleContent.ImportAsync(test);
        await test.Get<EditionSender>().SendAsync("2023-03");
        using var client = test.CreateClient();

        var index = await client.GetStringAsync("archive");
        var month = await client.GetStringAsync("archive/2023-03");

        Assert.Contains("<a href=\"/archive/2023-03#capacity-to-mentalize\">Capacity to Mentalize", index);
        Assert.Contains("<a href=\"/archive/2023-03#negative-effects-of-psychotherapy\">", index);
        Assert.Contains("id=\"capacity-to-mentalize\"", month);
        foreach (var page in new[] { index, month })
        {
            Assert.Contains("class=\"subscribe-prompt\"", page);
            Assert.Contains("<a href=\"/\">Subscribe</a>", Section(page, "subscribe-prompt"));
        }
    }

    /// <summary>The element whose class is <paramref name="cssClass"/>, up to its closing tag.</summary>
    static string Section(string html, string cssClass)
    {
        var start = html.IndexOf($"class=\"{cssClass}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no .{cssClass}");
        var ends = new[] { "</section>", "</aside>" }.Select(tag => html.IndexOf(tag, start, StringComparison.Ordinal)).Where(i => i >= 0);
        return html[start..ends.Min()];
    }
}
