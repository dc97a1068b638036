using Microsoft.Extensions.Options;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Web;

public class PrivacyLinkTests
{
    [Fact]
    public async Task With_a_privacy_url_every_page_links_to_it_and_the_subscribe_form_says_what_it_is()
    {
        await using var test = await TestApp.StartWebAsync(new Dictionary<string, string?> { ["Newsletter:PrivacyUrl"] = "https://pprnet.example.org/privacy" });
        using var client = test.CreateClient();

        var subscribe = await client.GetStringAsync("");
        var archive = await client.GetStringAsync("archive");

        Assert.Contains("How we handle your data: <a href=\"https://pprnet.example.org/privacy\">privacy policy</a>.", subscribe);
        Assert.Contains("<a href=\"https://pprnet.example.org/privacy\">Privacy policy</a>", archive);
    }

    [Fact]
    public async Task Without_one_no_page_shows_a_privacy_link()
    {
        await using var test = await TestApp.StartWebAsync();
        using var client = test.CreateClient();

        Assert.DoesNotContain("rivacy", await client.GetStringAsync(""));
    }

    [Fact]
    public async Task A_privacy_url_that_is_not_an_absolute_web_address_stops_start_up_with_the_key_named()
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            TestApp.CreateAsync(new Dictionary<string, string?> { ["Newsletter:PrivacyUrl"] = "privacy.html" }));

        Assert.Contains("Newsletter:PrivacyUrl must be empty or an absolute http(s) URL", e.Message);
    }

    [Fact]
    public async Task The_confirmation_email_says_how_long_its_link_works()
    {
        await using var test = await TestApp.CreateAsync();
        var dan = await test.Get<ISubscriberStore>().AddAsync(
            new NewSubscriber("dan@example.org", "Dan", TopicSelection.All, SubscriberStatus.Pending), ConsentContext.Admin);

        var message = await test.Get<SubscriptionEmails>().ConfirmationAsync(dan, "abc");

        var lifetime = $"The link works for {ConfirmationTokens.Lifetime.TotalHours:0} hours.";
        Assert.Equal("The link works for 48 hours.", lifetime);
        Assert.Contains(lifetime, message.HtmlBody);
        Assert.Contains(lifetime, message.TextBody);
    }
}
