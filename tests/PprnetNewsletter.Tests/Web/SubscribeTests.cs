using System.Net;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;
using PprnetNewsletter.Web;
using static PprnetNewsletter.Tests.Support.WebSession;

namespace PprnetNewsletter.Tests.Web;

public class SubscribeTests
{
    static readonly (string, string)[] TwoTopics =
        [("email", "ana@example.org"), ("name", "Ana Silva"), ("topics", "empathy"), ("topics", "attachment")];

    [Fact]
    public async Task Subscribing_stores_a_pending_subscriber_with_the_consent_of_the_form_and_mails_a_confirmation_link()
    {
        await using var test = await TestApp.StartWebAsync();
        using var visitor = new WebSession(test, "Firefox/140.0");
        await visitor.GetAsync("/");

        var response = await visitor.PostFormAsync("/subscribe", Fields(TwoTopics));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Check your inbox", await response.Content.ReadAsStringAsync());
        var subscriber = await test.Get<ISubscriberStore>().FindByEmailAsync("ana@example.org");
        Assert.NotNull(subscriber);
        Assert.Equal(SubscriberStatus.Pending, subscriber.Status);
        Assert.Equal("Ana Silva", subscriber.Name);
        Assert.Equal(2, subscriber.TopicIds.Count);
        var consent = Assert.Single(await test.Get<ISubscriberStore>().ConsentEventsAsync(subscriber.Id));
        Assert.Equal((ConsentEvent.Subscribed, ConsentSource.Form), (consent.Event, consent.Source));
        Assert.Equal("127.0.0.1", consent.Ip);
        Assert.Equal("Firefox/140.0", consent.UserAgent);
        Assert.Equal(ConsentText.Version, consent.ConsentVersion);
        var mail = Assert.Single(Outbox.To(test, "ana@example.org"));
        Assert.StartsWith("/confirm?token=", Outbox.LinkTo(mail, "/confirm"));
    }

    [Fact]
    public async Task Confirming_takes_a_post_the_link_alone_only_shows_a_button_and_the_token_works_once()
    {
        await using var test = await TestApp.StartWebAsync();
        using var visitor = new WebSession(test);
        await visitor.GetAsync("/");
        await visitor.PostFormAsync("/subscribe", Fields(TwoTopics));
        var link = Outbox.LinkTo(Assert.Single(Outbox.Messages(test)), "/confirm");
        var store = test.Get<ISubscriberStore>();

        var (status, html) = await visitor.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("<form method=\"post\" action=\"/confirm\">", html);
        Assert.Equal(SubscriberStatus.Pending, (await store.FindByEmailAsync("ana@example.org"))!.Status);

        var token = Uri.UnescapeDataString(link["/confirm?token=".Length..]);
        var confirmed = await visitor.PostFormAsync("/confirm", Fields(("token", token)));
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Contains("/preferences/", await confirmed.Content.ReadAsStringAsync());
        var subscriber = (await store.FindByEmailAsync("ana@example.org"))!;
        Assert.Equal(SubscriberStatus.Confirmed, subscriber.Status);
        var events = await store.ConsentEventsAsync(subscriber.Id);
        Assert.Equal([ConsentEvent.Subscribed, ConsentEvent.Confirmed], events.Select(e => e.Event));
        Assert.All(events, e => Assert.Equal(ConsentText.Version, e.ConsentVersion));

        await visitor.GetAsync("/");
        var again = await visitor.PostFormAsync("/confirm", Fields(("token", token)));
        Assert.Equal(HttpStatusCode.Gone, again.StatusCode);
    }

    [Fact]
    public async Task The_page_is_the_same_for_an_address_already_subscribed_which_gets_a_preferences_link_instead()
    {
        await using var test = await TestApp.StartWebAsync();
        await test.Get<ISubscriberStore>().AddAsync(
            new NewSubscriber("ana@example.org", "Ana", TopicSelection.All), ConsentContext.Admin);
        using var newcomer = new WebSession(test);
        using var known = new WebSession(test);
        await newcomer.GetAsync("/");
        await known.GetAsync("/");

        var forNewcomer = await newcomer.PostFormAsync("/subscribe", Fields(("email", "ben@example.org"), ("allTopics", "true")));
        var forKnown = await known.PostFormAsync("/subscribe", Fields(("email", "ana@example.org"), ("allTopics", "true")));

        Assert.Equal(forNewcomer.StatusCode, forKnown.StatusCode);
        Assert.Equal(
            (await forNewcomer.Content.ReadAsStringAsync()).Replace("ben@example.org", "ADDRESS"),
            (await forKnown.Content.ReadAsStringAsync()).Replace("ana@example.org", "ADDRESS"));
        var mail = Assert.Single(Outbox.To(test, "ana@example.org"));
        Assert.StartsWith("/preferences/", Outbox.LinkTo(mail, "/preferences/"));
        Assert.Equal(SubscriberStatus.Confirmed, (await test.Get<ISubscriberStore>().FindByEmailAsync("ana@example.org"))!.Status);
    }

    [Theory]
    [InlineData("/confirm?token=AAAA")]
    [InlineData("/confirm?token=")]
    [InlineData("/confirm")]
    public async Task A_made_up_confirmation_link_is_a_400_page(string link)
    {
        await using var test = await TestApp.StartWebAsync();
        using var visitor = new WebSession(test);

        var (status, html) = await visitor.GetAsync(link);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("This confirmation link is not valid", html);
    }

    [Fact]
    public async Task Posting_a_tampered_confirmation_token_confirms_nobody()
    {
        await using var test = await TestApp.StartWebAsync();
        using var visitor = new WebSession(test);
        await visitor.GetAsync("/");
        await visitor.PostFormAsync("/subscribe", Fields(TwoTopics));
        var token = Outbox.LinkTo(Assert.Single(Outbox.Messages(test)), "/confirm")["/confirm?token=".Length..];
        var tampered = (token[0] == 'A' ? "B" : "A") + token[1..];
        await visitor.GetAsync("/");

        var response = await visitor.PostFormAsync("/confirm", Fields(("token", tampered)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(SubscriberStatus.Pending, (await test.Get<ISubscriberStore>().FindByEmailAsync("ana@example.org"))!.Status);
    }
}
