using MimeKit;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Digests.DigestTestData;

namespace PprnetNewsletter.Tests.Digests;

public class SubscriptionEmailTests
{
    static SubscriptionEmails Emails(TestApp test) => test.Get<SubscriptionEmails>();

    [Fact]
    public async Task The_confirmation_email_links_to_the_confirm_page_and_carries_the_footer()
    {
        await using var test = await TestApp.CreateAsync();
        await SeedAsync(test);
        var dan = (await test.Get<ISubscriberStore>().GetAsync(Dan))!;

        var (message, _) = RoundTrip(await Emails(test).ConfirmationAsync(dan, "abc_DEF-123"));

        Assert.Equal(("Dan", "dan@example.org"), (message.To.Mailboxes.Single().Name, message.To.Mailboxes.Single().Address));
        Assert.Equal("Please confirm your subscription to the PPRNet research digest", message.Subject);
        Assert.EndsWith("@pprnet.example.org", message.MessageId);
        Assert.IsType<MultipartAlternative>(message.Body);
        Assert.Contains("""href="https://news.example.org/confirm?token=abc_DEF-123""", message.HtmlBody);
        Assert.Contains("https://news.example.org/confirm?token=abc_DEF-123", message.TextBody);
        Assert.Contains("Dear Dan,", message.HtmlBody);
        Assert.Contains("Depression and Depressive Symptoms", message.HtmlBody);
        Assert.Contains("100 Example Street", message.HtmlBody);
        Assert.Contains("100 Example Street", message.TextBody);
        Assert.Null(message.Headers["List-Unsubscribe"]); // not subscribed yet: nothing to unsubscribe from
        Assert.DoesNotContain("/u/", message.HtmlBody);
    }

    [Fact]
    public async Task The_manage_preferences_email_links_to_the_preference_page()
    {
        await using var test = await TestApp.CreateAsync();
        await SeedAsync(test);
        var bob = (await test.Get<ISubscriberStore>().GetAsync(Bob))!;

        var (message, _) = RoundTrip(await Emails(test).ManagePreferencesAsync(bob));

        Assert.Equal("Your PPRNet research digest subscription", message.Subject);
        Assert.Matches("<p[^>]*>Hello,</p>", message.HtmlBody);
        Assert.Contains("all topics", message.HtmlBody);
        Assert.Contains($"href=\"{PreferencesUrl(test, Bob)}\"", message.HtmlBody);
        Assert.Contains(PreferencesUrl(test, Bob), message.TextBody);
        Assert.Contains(UnsubscribeUrl(test, Bob), message.TextBody);
    }
}
