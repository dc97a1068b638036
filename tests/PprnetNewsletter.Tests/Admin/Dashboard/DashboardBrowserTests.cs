using OpenQA.Selenium;
using PprnetNewsletter.Admin.Dashboard;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Content;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Admin.Dashboard;

/// <summary>The administrator's journeys in headless Chromium. Screenshots are kept under TestResults/screenshots.</summary>
public class DashboardBrowserTests
{
    static void SignIn(Browser browser, TestApp test, string password = AdminDashboard.Password)
    {
        browser.GoTo(new Uri(test.BaseAddress, "admin"));
        Until(() => browser.Driver.Url.Contains("/admin/signin", StringComparison.Ordinal), "the sign-in page");
        browser.Find("#email").SendKeys(AdminDashboard.Email);
        browser.Find("#password").SendKeys(password);
        browser.Find("form button[type=submit]").Click();
    }

    /// <summary>Waits (generously: the machine may be busy) until <paramref name="condition"/> holds.</summary>
    static void Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                if (condition())
                {
                    return;
                }
            }
            catch (Exception e) when (e is StaleElementReferenceException or NoSuchElementException)
            {
                // The page changed under the look: look again.
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited in vain for {what}");
            }
            Thread.Sleep(100);
        }
    }

    [Fact]
    public async Task An_administrator_signs_in_uploads_a_month_edits_a_summary_previews_sends_watches_the_bar_and_resends_one_address()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.StartWebAsync(smtp.ClientConfig());
        await AdminDashboard.AddAccountAsync(test);
        var store = test.Get<ISubscriberStore>();
        await store.AddAsync(new NewSubscriber("ana@example.org", "Ana", TopicSelection.All), ConsentContext.Admin);
        for (var i = 0; i < 30; i++)
        {
            await store.AddAsync(new NewSubscriber($"reader{i}@example.org", "", TopicSelection.All), ConsentContext.Admin);
        }
        using var browser = Browser.Start();

        // Sign in: the dashboard's address leads to the sign-in page, then back.
        SignIn(browser, test);
        browser.WaitFor("h1", "Editions");
        browser.Screenshot("admin-editions-empty");

        // Upload a month of summaries.
        browser.GoTo(new Uri(test.BaseAddress, "admin/content"));
        var files = Directory.GetFiles(Path.Combine(ContentFixtures.SampleFolder, "2023-03"), "*.md").Order().ToList();
        browser.Find("#files").SendKeys(string.Join("\n", files));
        browser.Find("#upload").Click();
        Until(() => browser.Find(".notice").Text.StartsWith("Imported 2 summaries (2 new", StringComparison.Ordinal), "the import's notice");
        browser.Screenshot("admin-content-uploaded");

        // Edit a summary: an unknown topic (as from a form left open while the taxonomy changed) is refused by the import's rules.
        browser.Driver.FindElement(By.LinkText("Capacity to Mentalize Predicted Outcomes in Inpatient Therapy for Resistant Depression")).Click();
        browser.WaitFor("label[for=topics]", "Topics (hold Ctrl or ⌘ to choose several)");
        browser.Driver.ExecuteScript(
            "var o = document.createElement('option'); o.value = 'Gestalt Therapy'; o.selected = true; document.getElementById('topics').appendChild(o);");
        browser.Find("#save").Click();
        Until(() => browser.Find("#summary-problems").Text.Contains("Unknown topic 'Gestalt Therapy': the closest known topics are", StringComparison.Ordinal),
            "the unknown topic's message");
        browser.Screenshot("admin-summary-unknown-topic");
        // The form comes back filled in, without the unknown topic: correct it and save.
        var researchType = browser.Find("#research_type");
        researchType.Clear();
        researchType.SendKeys("Quantitative (edited)");
        browser.Find("#save").Click();
        browser.WaitFor(".notice", "The summary is saved.");
        var edited = (await test.Get<PprnetNewsletter.Content.IContentStore>().GetEditionAsync("2023-03"))!.Summaries
            .Single(s => s.Slug == "capacity-to-mentalize");
        Assert.Equal("Quantitative (edited)", edited.ResearchType);
        Assert.Equal(["client-factors", "depression-and-depressive-symptoms", "psychodynamic-therapy-pdt", "self-reflection-and-awareness"], edited.Topics.Select(t => t.Slug).Order());

        // Preview one subscriber's digest: the HTML as sent, in a sandboxed frame.
        browser.GoTo(new Uri(test.BaseAddress, "admin/editions/2023-03/preview"));
        browser.Find("#preview-email").SendKeys("ana@example.org");
        browser.Find("main form button[type=submit]").Click();
        // The frame is on the page the form leads to, which may not have replaced this one yet.
        Until(() => browser.FindAll("iframe.preview").Count == 1, "the preview's frame");
        var frame = browser.Find("iframe.preview");
        Assert.Equal("", frame.GetAttribute("sandbox"));
        browser.Driver.SwitchTo().Frame(frame);
        Until(() => browser.Driver.FindElement(By.TagName("body")).Text.Contains("Capacity to Mentalize", StringComparison.Ordinal), "the digest in the frame");
        browser.Driver.SwitchTo().DefaultContent();
        browser.Screenshot("admin-preview");

        // Send now: the confirmation names the recipients; the relay holds every message until the page is showing.
        using var relay = new ManualResetEventSlim(false);
        smtp.BeforeAccept = _ => relay.Wait(TimeSpan.FromSeconds(60));
        browser.GoTo(new Uri(test.BaseAddress, "admin/editions/2023-03"));
        browser.Find("#send-now").Click();
        Until(() => browser.Find(".confirm-text").Text.Contains("31 confirmed subscribers", StringComparison.Ordinal), "the confirmation");
        browser.Screenshot("admin-send-confirm");
        browser.Find("#confirm").Click();
        browser.WaitFor(".notice", "The send has started. The bar follows it.");
        var ledger = browser.Find(".ledger");
        Assert.NotEqual("100", ledger.GetAttribute("data-percent"));
        Assert.StartsWith("0 %", browser.Find(".ledger-text").Text);
        relay.Set();
        Until(() => browser.Find(".ledger").GetAttribute("data-percent") == "100", "the live bar at 100 %");
        Assert.StartsWith("100 % · 31 sent", browser.Find(".ledger-text").Text);
        browser.Screenshot("admin-sending-done");
        Assert.Equal(31, smtp.Received.Count);

        // Opened again, the edition is sent: its chart of messages per minute, and the resends.
        browser.GoTo(new Uri(test.BaseAddress, "admin/editions/2023-03"));
        Assert.Equal("state state-sent", browser.Find("h1 .state").GetAttribute("class"));
        Assert.NotEmpty(browser.FindAll("svg.chart rect.column"));
        browser.Screenshot("admin-sent");

        // Resend to one address ("I never got it").
        browser.Find("#resend-email").SendKeys("ana@example.org");
        browser.Find("#resend-one").Click();
        browser.WaitFor(".notice", "The resend has started. The bar follows it.");
        Until(() => smtp.CountByRecipient().GetValueOrDefault("ana@example.org") == 2, "the second message to ana");
        browser.Screenshot("admin-resent");

        browser.GoTo(new Uri(test.BaseAddress, "admin/audit"));
        var actions = browser.FindAll("table.audit tbody tr td:nth-child(3)").Select(td => td.Text).ToList();
        Assert.Equal(["resend", "send", "summary edited", "summaries uploaded", "signed in"], actions.Where(a => a != "sign-in failed"));
        browser.Screenshot("admin-audit");
    }

    [Fact]
    public async Task Five_wrong_passwords_lock_the_account_out_even_for_the_right_one()
    {
        await using var test = await TestApp.StartWebAsync();
        await AdminDashboard.AddAccountAsync(test);
        using var browser = Browser.Start();

        for (var i = 0; i < 5; i++)
        {
            SignIn(browser, test, password: $"wrong password {i}");
            browser.WaitFor(".error", "The address or the password is not right.");
        }
        SignIn(browser, test);

        browser.WaitFor(".error", "Too many failed attempts. Try again in 15 minutes.");
        Assert.Contains("/admin/signin", browser.Driver.Url);
        browser.Screenshot("admin-lockout");
        Assert.Equal(5, (await test.Get<AuditLog>().ListAsync(0, 10)).Count(e => e.Action == "sign-in failed"));
    }
}
