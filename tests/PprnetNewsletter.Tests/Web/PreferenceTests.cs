using System.Net;
using System.Text.Json;
using PprnetNewsletter.Content;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Support.WebSession;

namespace PprnetNewsletter.Tests.Web;

public class PreferenceTests
{
    static async Task<(Subscriber Subscriber, string Page)> SubscribedAsync(TestApp test)
    {
        var subscriber = await test.Get<ISubscriberStore>().AddAsync(
            new NewSubscriber("ana@example.org", "Ana", TopicSelection.All), ConsentContext.Admin);
        return (subscriber, "/preferences/" + test.Get<LinkTokens>().Create(subscriber.Id, LinkPurpose.Preferences));
    }

    [Fact]
    public async Task Topics_and_name_are_changed_from_the_page_and_recorded_in_the_consent_ledger()
    {
        await using var test = await TestApp.StartWebAsync();
        var (subscriber, page) = await SubscribedAsync(test);
        using var visitor = new WebSession(test, "Safari/18");
        var (status, html) = await visitor.GetAsync(page);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("ana@example.org", html);
        Assert.Contains("id=\"all-topics\" name=\"allTopics\" type=\"checkbox\" value=\"true\" checked=\"checked\"", html);

        var response = await visitor.PostFormAsync(page, Fields(("name", "Ana S."), ("topics", "empathy"), ("topics", "training")));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(page + "?done=saved", response.Headers.Location?.OriginalString);
        var changed = (await test.Get<ISubscriberStore>().GetAsync(subscriber.Id))!;
        Assert.Equal("Ana S.", changed.Name);
        Assert.False(changed.AllTopics);
        var catalog = test.Get<TopicCatalog>();
        Assert.Equal(new[] { (await catalog.FindAsync("empathy"))!.Id, (await catalog.FindAsync("training"))!.Id }.Order(), changed.TopicIds);
        var last = (await test.Get<ISubscriberStore>().ConsentEventsAsync(subscriber.Id))[^1];
        Assert.Equal((ConsentEvent.PreferencesChanged, ConsentSource.Preferences, "Safari/18"), (last.Event, last.Source, last.UserAgent));
        var (_, after) = await visitor.GetAsync(page + "?done=saved");
        Assert.Contains("Your preferences are saved.", after);
        Assert.Contains("value=\"empathy\" checked=\"checked\"", after);
    }

    [Fact]
    public async Task Pause_resume_and_unsubscribe_each_change_the_status()
    {
        await using var test = await TestApp.StartWebAsync();
        var (subscriber, page) = await SubscribedAsync(test);
        using var visitor = new WebSession(test);
        var store = test.Get<ISubscriberStore>();

        foreach (var (action, expected) in new[] { ("pause", SubscriberStatus.Paused), ("resume", SubscriberStatus.Confirmed), ("unsubscribe", SubscriberStatus.Unsubscribed) })
        {
            await visitor.GetAsync(page);
            var response = await visitor.PostFormAsync($"{page}/{action}", []);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Equal(expected, (await store.GetAsync(subscriber.Id))!.Status);
        }
        Assert.Equal([ConsentEvent.Confirmed, ConsentEvent.Paused, ConsentEvent.Resumed, ConsentEvent.Unsubscribed],
            (await store.ConsentEventsAsync(subscriber.Id)).Select(e => e.Event));
    }

    [Fact]
    public async Task A_bad_preferences_form_is_a_400_naming_the_field_and_changes_nothing()
    {
        await using var test = await TestApp.StartWebAsync();
        var (subscriber, page) = await SubscribedAsync(test);
        using var visitor = new WebSession(test);
        await visitor.GetAsync(page);

        var response = await visitor.PostFormAsync(page, Fields(("name", "Ana\nX"), ("topics", "no-such-topic")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Name must be on one line", html);
        Assert.Contains("is not one of our topics", html);
        var after = (await test.Get<ISubscriberStore>().GetAsync(subscriber.Id))!;
        Assert.Equal((subscriber.Name, subscriber.Topics), (after.Name, after.Topics));
        Assert.Single(await test.Get<ISubscriberStore>().ConsentEventsAsync(subscriber.Id));
    }

    [Fact]
    public async Task My_data_downloads_as_json_with_the_consent_record()
    {
        await using var test = await TestApp.StartWebAsync();
        var (_, page) = await SubscribedAsync(test);
        using var visitor = new WebSession(test);

        var response = await visitor.Client.GetAsync(page.TrimStart('/') + "/data");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("ana@example.org", json.RootElement.GetProperty("email").GetString());
        Assert.Equal("confirmed", json.RootElement.GetProperty("consentEvents")[0].GetProperty("event").GetString());
    }

    [Fact]
    public async Task Erasing_asks_first_then_deletes_the_subscriber_and_the_link_stops_working()
    {
        await using var test = await TestApp.StartWebAsync();
        var (subscriber, page) = await SubscribedAsync(test);
        using var visitor = new WebSession(test);
        var store = test.Get<ISubscriberStore>();

        var (status, confirmPage) = await visitor.GetAsync(page + "/erase");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("Yes, erase my data", confirmPage);
        Assert.NotNull(await store.GetAsync(subscriber.Id));

        var response = await visitor.PostFormAsync(page + "/erase", []);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(await store.GetAsync(subscriber.Id));
        Assert.True(await store.IsSuppressedAsync("ana@example.org"));
        Assert.Equal(HttpStatusCode.NotFound, (await visitor.GetAsync(page)).Status);
    }

    [Fact]
    public async Task A_tampered_preferences_link_or_an_unsubscribe_token_opens_nothing()
    {
        await using var test = await TestApp.StartWebAsync();
        var (subscriber, page) = await SubscribedAsync(test);
        using var visitor = new WebSession(test);
        var unsubscribeToken = test.Get<LinkTokens>().Create(subscriber.Id, LinkPurpose.Unsubscribe);
        var otherId = page.Replace($".{subscriber.Id}.", $".{subscriber.Id + 1}.");

        foreach (var bad in new[] { page[..^2], page + "x", otherId, "/preferences/" + unsubscribeToken, "/preferences/%0d%0a" })
        {
            var (status, html) = await visitor.GetAsync(bad);
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.Contains("This link is not valid", html);
        }
        await visitor.GetAsync("/");
        var post = await visitor.PostFormAsync("/preferences/" + unsubscribeToken + "/unsubscribe", []);
        Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        Assert.Equal(SubscriberStatus.Confirmed, (await test.Get<ISubscriberStore>().GetAsync(subscriber.Id))!.Status);
    }

    [Fact]
    public async Task A_preferences_post_without_antiforgery_changes_nothing()
    {
        await using var test = await TestApp.StartWebAsync();
        var (subscriber, page) = await SubscribedAsync(test);
        using var visitor = new WebSession(test);

        var response = await visitor.PostFormAsync(page + "/unsubscribe", [], withAntiforgery: false);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(SubscriberStatus.Confirmed, (await test.Get<ISubscriberStore>().GetAsync(subscriber.Id))!.Status);
    }
}
