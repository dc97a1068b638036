using System.Net;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Support.WebSession;

namespace PprnetNewsletter.Tests.Security;

/// <summary>X-Forwarded-* is believed only from the proxies named in Web:TrustedProxies.</summary>
public class ForwardedHeaderTests
{
    static async Task<HttpResponseMessage> SubscribeAsync(WebSession visitor, string email, string forwardedFor, string proto = "http")
    {
        visitor.Client.DefaultRequestHeaders.Remove("X-Forwarded-For");
        visitor.Client.DefaultRequestHeaders.Remove("X-Forwarded-Proto");
        visitor.Client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        visitor.Client.DefaultRequestHeaders.Add("X-Forwarded-Proto", proto);
        await visitor.GetAsync("/");
        return await visitor.PostFormAsync("/subscribe", Fields(("email", email), ("allTopics", "true")));
    }

    [Fact]
    public async Task Without_trusted_proxies_a_client_cannot_choose_its_address_or_its_rate_limit_bucket()
    {
        await using var test = await TestApp.StartWebAsync(new Dictionary<string, string?> { ["Web:SubscribeLimitPerMinute"] = "2" });
        using var visitor = new WebSession(test);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await SubscribeAsync(visitor, $"a{i}@example.org", $"203.0.113.{i + 1}")).StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        var first = (await test.Get<ISubscriberStore>().FindByEmailAsync("a0@example.org"))!;
        Assert.Equal("127.0.0.1", (await test.Get<ISubscriberStore>().ConsentEventsAsync(first.Id))[0].Ip);
    }

    [Fact]
    public async Task A_named_proxy_is_believed_about_the_client_and_https_and_the_antiforgery_cookie_is_then_secure()
    {
        await using var test = await TestApp.StartWebAsync(new Dictionary<string, string?> { ["Web:TrustedProxies"] = "10.9.0.0/16, 127.0.0.1" });
        using var visitor = new WebSession(test);

        var response = await SubscribeAsync(visitor, "ann@example.org", "203.0.113.7");
        // A browser would not send a Secure cookie back over this test's plain http, so the https page is asked apart.
        using var viaTls = test.CreateClient();
        viaTls.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.7");
        viaTls.DefaultRequestHeaders.Add("X-Forwarded-Proto", "https");
        var page = await viaTls.GetAsync("");
        var plain = await test.CreateClient().GetAsync("");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ann = (await test.Get<ISubscriberStore>().FindByEmailAsync("ann@example.org"))!;
        Assert.Equal("203.0.113.7", (await test.Get<ISubscriberStore>().ConsentEventsAsync(ann.Id))[0].Ip);
        var cookie = Assert.Single(page.Headers.GetValues("Set-Cookie"), c => c.StartsWith("pprnet-antiforgery", StringComparison.Ordinal));
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", Assert.Single(plain.Headers.GetValues("Set-Cookie")), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_trusted_proxy_entry_that_is_not_an_address_stops_the_start_with_a_message()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestApp.StartWebAsync(new Dictionary<string, string?> { ["Web:TrustedProxies"] = "proxy.local" }));

        Assert.Contains("Web:TrustedProxies: 'proxy.local'", error.Message);
    }
}
