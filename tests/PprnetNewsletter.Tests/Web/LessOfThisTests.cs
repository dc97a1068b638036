using System.Net;
using System.Text.RegularExpressions;
using MimeKit;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Support.WebSession;

namespace PprnetNewsletter.Tests.Web;

/// <summary>"Less of this: stop TOPIC" beside each full summary of a digest, and the page it opens.</summary>
public class LessOfThisTests
{
    static async Task<Subscriber> AddAsync(TestApp test, string email, string topics) =>
        await test.Get<ISubscriberStore>().AddAsync(new NewSubscriber(email, "", topics == "all"
            ? TopicSelection.All : await test.Get<TopicChoices>().ParseAsync(topics)), ConsentContext.Admin);

    static string LessUrl(TestApp test, Subscriber subscriber, string slug) =>
        $"https://news.example.org/preferences/{test.Get<LinkTokens>().Create(subscriber.Id, LinkPurpose.Preferences)}/less?topic={slug}";

    [Fact]
    public async Task Each_full_summary_offers_to_stop_each_of_its_topics_the_reader_chose_and_no_other()
    {
        await using var test = await TestApp.CreateAsync();
        await SampleContent.ImportAsync(test);
        var ana = await AddAsync(test, "ana@example.org", "depression-and-depressive-symptoms;empathy");
        var bo = await AddAsync(test, "bo@example.org", "client-factors");
        var cy = await AddAsync(test, "cy@example.org", "all");

        await test.Get<EditionSender>().SendAsync("2023-03");

        MimeMessage Digest(string email) => Assert.Single(Outbox.To(test, email));
        var anaDigest = Digest("ana@example.org");
        Assert.Equal(1, Count(anaDigest.HtmlBody, "Less of this:"));
        Assert.Matches($"<a href=\"{Regex.Escape(LessUrl(test, ana, "depression-and-depressive-symptoms"))}\"[^>]*>stop Depression and Depressive Symptoms</a>", anaDigest.HtmlBody);
        Assert.Contains($"Less of this: stop Depression and Depressive Symptoms\r\n  {LessUrl(test, ana, "depression-and-depressive-symptoms")}\r\n",
            (anaDigest.TextBody ?? "").ReplaceLineEndings("\r\n"));
        Assert.DoesNotContain("stop Psychodynamic", anaDigest.HtmlBody);
        Assert.DoesNotContain("stop Client Factors", anaDigest.HtmlBody);

        // The same summary reached through another topic: the same digest otherwise, its own link.
        var boDigest = Digest("bo@example.org");
        Assert.Matches($"<a href=\"{Regex.Escape(LessUrl(test, bo, "client-factors"))}\"[^>]*>stop Client Factors</a>", boDigest.HtmlBody);
        Assert.DoesNotContain("stop Depression", boDigest.HtmlBody);

        // A reader of every topic: every topic of both summaries, seven links.
        var cyDigest = Digest("cy@example.org");
        Assert.Equal(7, Count(cyDigest.HtmlBody, "/less?topic="));
        Assert.Matches($"<a href=\"{Regex.Escape(LessUrl(test, cy, "attendance-attrition-and-drop-out"))}\"[^>]*>stop Attendance, Attrition, and Drop-Out</a>", cyDigest.HtmlBody);
    }

    [Fact]
    public async Task The_link_opens_one_button_that_removes_the_topic_records_the_change_and_says_what_remains()
    {
        await using var test = await TestApp.StartWebAsync();
        var ana = await AddAsync(test, "ana@example.org", "depression-and-depressive-symptoms;empathy;training");
        using var reader = new WebSession(test, "Firefox/140");
        var path = new Uri(LessUrl(test, ana, "empathy")).PathAndQuery;

        var (status, html) = await reader.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("<h1>Less of this: stop Empathy?</h1>", html);
        Assert.Single(html.Split("<button").Skip(1));
        Assert.Equal(3, (await test.Get<ISubscriberStore>().GetAsync(ana.Id))!.TopicIds.Count);   // a GET changes nothing

        var done = await reader.PostFormAsync(path[..path.IndexOf('?')], Fields(("topic", "empathy")));

        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        var page = await done.Content.ReadAsStringAsync();
        Assert.Contains("No more summaries on Empathy", page);
        Assert.Contains("Your topics now: Depression and Depressive Symptoms, Training.", page);
        var catalog = test.Get<TopicCatalog>();
        var after = (await test.Get<ISubscriberStore>().GetAsync(ana.Id))!;
        Assert.Equal(new[] { (await catalog.FindAsync("depression-and-depressive-symptoms"))!.Id, (await catalog.FindAsync("training"))!.Id }.Order(), after.TopicIds);
        var last = (await test.Get<ISubscriberStore>().ConsentEventsAsync(ana.Id))[^1];
        Assert.Equal((ConsentEvent.PreferencesChanged, ConsentSource.Preferences, "Firefox/140"), (last.Event, last.Source, last.UserAgent));
    }

    [Fact]
    public async Task A_reader_of_every_topic_keeps_all_the_others()
    {
        await using var test = await TestApp.StartWebAsync();
        var cy = await AddAsync(test, "cy@example.org", "all");
        using var reader = new WebSession(test);
        var path = new Uri(LessUrl(test, cy, "training")).PathAndQuery;

        var (_, html) = await reader.GetAsync(path);
        Assert.Contains("keep the other 35 topics", html);
        var done = await reader.PostFormAsync(path[..path.IndexOf('?')], Fields(("topic", "training")));

        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        var after = (await test.Get<ISubscriberStore>().GetAsync(cy.Id))!;
        Assert.False(after.AllTopics);
        Assert.Equal(35, after.TopicIds.Count);
        Assert.DoesNotContain((await test.Get<TopicCatalog>().FindAsync("training"))!.Id, after.TopicIds);
    }

    [Fact]
    public async Task A_reader_whose_last_topic_it_is_is_offered_a_pause_or_unsubscribing_and_nothing_is_removed()
    {
        await using var test = await TestApp.StartWebAsync();
        var ana = await AddAsync(test, "ana@example.org", "empathy");
        using var reader = new WebSession(test);
        var path = new Uri(LessUrl(test, ana, "empathy")).PathAndQuery;
        var token = test.Get<LinkTokens>().Create(ana.Id, LinkPurpose.Preferences);

        var (status, html) = await reader.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("Empathy is your only topic", html);
        Assert.Contains($"action=\"/preferences/{token}/pause\"", html);
        Assert.Contains($"action=\"/preferences/{token}/unsubscribe\"", html);
        Assert.DoesNotContain("/less\"", html);

        var refused = await reader.PostFormAsync(path[..path.IndexOf('?')], Fields(("topic", "empathy")));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Single((await test.Get<ISubscriberStore>().GetAsync(ana.Id))!.TopicIds);

        var paused = await reader.PostFormAsync($"/preferences/{token}/pause", []);
        Assert.Equal(HttpStatusCode.Redirect, paused.StatusCode);
        Assert.Equal(SubscriberStatus.Paused, (await test.Get<ISubscriberStore>().GetAsync(ana.Id))!.Status);
    }

    [Fact]
    public async Task A_tampered_token_or_an_unknown_topic_changes_nothing()
    {
        await using var test = await TestApp.StartWebAsync();
        var ana = await AddAsync(test, "ana@example.org", "empathy;training");
        using var reader = new WebSession(test);
        var token = test.Get<LinkTokens>().Create(ana.Id, LinkPurpose.Preferences);
        var unsubscribeToken = test.Get<LinkTokens>().Create(ana.Id, LinkPurpose.Unsubscribe);

        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync($"/preferences/{token[..^2]}xx/less?topic=empathy")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync($"/preferences/{unsubscribeToken}/less?topic=empathy")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync($"/preferences/{token}/less?topic=astrology")).Status);
        var (_, notChosen) = await reader.GetAsync($"/preferences/{token}/less?topic=placebo-effect");
        Assert.Contains("Placebo Effect is not one of your topics", notChosen);
        await reader.GetAsync($"/preferences/{token}/less?topic=empathy");   // a page with the form, as a browser would have
        Assert.Equal(HttpStatusCode.Conflict, (await reader.PostFormAsync($"/preferences/{token}/less", Fields(("topic", "placebo-effect")))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.PostFormAsync($"/preferences/{token}/less", Fields(("topic", "astrology")))).StatusCode);

        Assert.Equal(2, (await test.Get<ISubscriberStore>().GetAsync(ana.Id))!.TopicIds.Count);
    }

    static int Count(string? text, string part) => (text ?? "").Split(part).Length - 1;
}
