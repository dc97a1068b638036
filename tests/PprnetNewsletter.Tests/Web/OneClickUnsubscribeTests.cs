using System.Net;
using System.Text;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Web;

/// <summary>RFC 8058 one-click unsubscribe at the List-Unsubscribe URL.</summary>
public class OneClickUnsubscribeTests
{
    static async Task<(Subscriber Subscriber, string Url)> SubscribedAsync(TestApp test)
    {
        var subscriber = await test.Get<ISubscriberStore>().AddAsync(
            new NewSubscriber("ana@example.org", "Ana", TopicSelection.All), ConsentContext.Admin);
        return (subscriber, "u/" + test.Get<LinkTokens>().Create(subscriber.Id, LinkPurpose.Unsubscribe));
    }

    static StringContent OneClickBody(string body = "List-Unsubscribe=One-Click") =>
        new(body, Encoding.ASCII, "application/x-www-form-urlencoded");

    [Fact]
    public async Task A_one_click_post_without_cookies_unsubscribes_at_once_and_answers_200()
    {
        await using var test = await TestApp.StartWebAsync();
        var (subscriber, url) = await SubscribedAsync(test);
        using var mailProvider = test.CreateClient();

        var response = await mailProvider.PostAsync(url, OneClickBody());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var store = test.Get<ISubscriberStore>();
        Assert.Equal(SubscriberStatus.Unsubscribed, (await store.GetAsync(subscriber.Id))!.Status);
        var last = (await store.ConsentEventsAsync(subscriber.Id))[^1];
        Assert.Equal((ConsentEvent.Unsubscribed, ConsentSource.OneClick), (last.Event, last.Source));

        var again = await mailProvider.PostAsync(url, OneClickBody());
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task A_get_of_the_link_only_shows_a_button_that_posts_one_click()
    {
        await using var test = await TestApp.StartWebAsync();
        var (subscriber, url) = await SubscribedAsync(test);
        using var scanner = test.CreateClient();

        var response = await scanner.GetAsync(url);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains($"<form method=\"post\" action=\"/{url}\">", html);
        Assert.Contains("name=\"List-Unsubscribe\" value=\"One-Click\"", html);
        Assert.Equal(SubscriberStatus.Confirmed, (await test.Get<ISubscriberStore>().GetAsync(subscriber.Id))!.Status);
    }

    [Theory]
    [InlineData("")]
    [InlineData("List-Unsubscribe=Yes")]
    public async Task A_post_without_the_one_click_body_changes_nothing(string body)
    {
        await using var test = await TestApp.StartWebAsync();
        var (subscriber, url) = await SubscribedAsync(test);
        using var client = test.CreateClient();

        var response = await client.PostAsync(url, OneClickBody(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(SubscriberStatus.Confirmed, (await test.Get<ISubscriberStore>().GetAsync(subscriber.Id))!.Status);
    }

    [Fact]
    public async Task A_tampered_or_preferences_token_unsubscribes_nobody()
    {
        await using var test = await TestApp.StartWebAsync();
        var (subscriber, url) = await SubscribedAsync(test);
        using var client = test.CreateClient();
        var preferencesToken = test.Get<LinkTokens>().Create(subscriber.Id, LinkPurpose.Preferences);

        foreach (var bad in new[] { url[..^1], url.Replace($".{subscriber.Id}.", ".999."), "u/" + preferencesToken })
        {
            var response = await client.PostAsync(bad, OneClickBody());
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        Assert.Equal(SubscriberStatus.Confirmed, (await test.Get<ISubscriberStore>().GetAsync(subscriber.Id))!.Status);
    }
}
