using System.Text.RegularExpressions;
using MimeKit;
using OpenQA.Selenium;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Web;

/// <summary>axe-core's WCAG 2.1 A and AA rules on every public page, in each state a reader meets, and on each email's HTML.</summary>
public class AccessibilityTests
{
    [Fact]
    public async Task The_subscription_journey_pages_have_no_WCAG_21_AA_violations()
    {
        await using var test = await TestApp.StartWebAsync();
        using var browser = Browser.Start();

        browser.GoTo(test.BaseAddress);
        Axe.AssertNoViolations(browser, "The empty subscribe form");

        // An address the browser accepts and the server refuses (no dot in the domain), and no topic: two errors.
        browser.Find("#email").SendKeys("kim@localhost");
        browser.Find("form.subscribe button[type=submit]").Click();
        browser.WaitFor(".error-summary h2", "Please correct these problems");
        Assert.Equal(2, browser.FindAll(".field-error").Count);
        Axe.AssertNoViolations(browser, "The subscribe form with errors");

        var email = browser.Find("#email");
        email.Clear();
        email.SendKeys("kim@example.org");
        browser.Find("#topic-empathy").Click();
        browser.Find("form.subscribe button[type=submit]").Click();
        browser.WaitFor("h1", "Check your inbox");
        Axe.AssertNoViolations(browser, "Check your inbox");

        var confirmation = Assert.Single(Outbox.To(test, "kim@example.org"));
        ShowEmail(browser, test, confirmation, "confirmation");
        Axe.AssertNoViolations(browser, "The confirmation email");

        browser.GoTo(new Uri(test.BaseAddress, Outbox.LinkTo(confirmation, "/confirm")));
        Axe.AssertNoViolations(browser, "The confirm page");
        browser.Find("main form button[type=submit]").Click();
        browser.WaitFor("h1", "You are subscribed");
        Axe.AssertNoViolations(browser, "Subscription confirmed");

        browser.Driver.FindElement(By.LinkText("Manage your preferences")).Click();
        browser.WaitFor("h1", "Your preferences");
        Axe.AssertNoViolations(browser, "The preference centre");
    }

    [Fact]
    public async Task The_archive_the_unsubscribe_page_and_a_digest_have_no_WCAG_21_AA_violations()
    {
        await using var test = await TestApp.StartWebAsync();
        await SampleContent.ImportAsync(test);
        var ana = await test.Get<ISubscriberStore>().AddAsync(
            new NewSubscriber("ana@example.org", "Ana", await test.Get<TopicChoices>().ParseAsync("depression-and-depressive-symptoms;client-factors")), ConsentContext.Admin);
        await test.Get<EditionSender>().SendAsync("2023-03");
        using var browser = Browser.Start();

        browser.GoTo(new Uri(test.BaseAddress, "archive"));
        Axe.AssertNoViolations(browser, "The archive");
        browser.GoTo(new Uri(test.BaseAddress, "archive/2023-03"));
        Axe.AssertNoViolations(browser, "The March 2023 edition");
        browser.GoTo(new Uri(test.BaseAddress, "archive/1999-01"));
        Axe.AssertNoViolations(browser, "A missing edition");

        var digest = Assert.Single(Outbox.To(test, "ana@example.org"));
        ShowEmail(browser, test, digest, "digest");
        Axe.AssertNoViolations(browser, "The digest");

        // "Less of this" beside a summary: the one-button page, its result, and the page for a reader's last topic.
        var lessOf = Regex.Matches(digest.TextBody!, @"https://\S+/less\?topic=\S+").Select(m => new Uri(m.Value).PathAndQuery).ToList();
        browser.GoTo(new Uri(test.BaseAddress, lessOf.Single(l => l.EndsWith("depression-and-depressive-symptoms", StringComparison.Ordinal))));
        Axe.AssertNoViolations(browser, "Less of this");
        browser.Find("main form button[type=submit]").Click();
        browser.WaitFor("h1", "No more summaries on Depression and Depressive Symptoms");
        Axe.AssertNoViolations(browser, "Less of this, done");
        browser.GoTo(new Uri(test.BaseAddress, lessOf.Single(l => l.EndsWith("client-factors", StringComparison.Ordinal))));
        browser.WaitFor("h1", "Client Factors is your only topic");
        Axe.AssertNoViolations(browser, "Less of this, the last topic");

        browser.GoTo(new Uri(test.BaseAddress, Outbox.LinkTo(digest, "/u/")));
        Axe.AssertNoViolations(browser, "The unsubscribe page");
        browser.Find("main form button[type=submit]").Click();
        browser.WaitFor("h1", "You are unsubscribed");
        Axe.AssertNoViolations(browser, "Unsubscribed");
        Assert.Equal(SubscriberStatus.Unsubscribed, (await test.Get<ISubscriberStore>().GetAsync(ana.Id))!.Status);
    }

    [Fact]
    public void The_check_finds_the_violations_of_a_page_that_has_them()
    {
        // A page without a language, an unlabelled input and low-contrast text: the check above must not be blind.
        var path = Path.Combine(Path.GetTempPath(), $"pprnet-axe-{Guid.NewGuid():N}.html");
        File.WriteAllText(path, "<!DOCTYPE html><html><head><title>t</title></head><body><main><input type=\"text\">"
            + "<p style=\"color:#bbb;background:#fff\">faint</p></main></body></html>");
        try
        {
            using var browser = Browser.Start();
            browser.GoTo(new Uri(path));

            var violations = Axe.Violations(browser);

            Assert.Contains(violations, v => v.StartsWith("html-has-lang", StringComparison.Ordinal));
            Assert.Contains(violations, v => v.StartsWith("label", StringComparison.Ordinal));
            Assert.Contains(violations, v => v.StartsWith("color-contrast", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Opens the HTML part of <paramref name="message"/> in the browser, as a mail client would show it.</summary>
    static void ShowEmail(Browser browser, TestApp test, MimeMessage message, string name)
    {
        var path = Path.Combine(test.Folder, name + ".html");
        File.WriteAllText(path, message.HtmlBody);
        browser.GoTo(new Uri(path));
    }
}
