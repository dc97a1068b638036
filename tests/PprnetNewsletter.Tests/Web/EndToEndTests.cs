using System.Net;
using System.Net.Http.Json;
using System.Text;
using PprnetNewsletter.Admin;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Support.WebSession;

namespace PprnetNewsletter.Tests.Web;

/// <summary>A clinician's whole journey over real HTTP through the real host, with mail to a real SMTP server.</summary>
public class EndToEndTests
{
    [Fact]
    public async Task Subscribe_confirm_change_topics_receive_the_digest_unsubscribe_with_one_click_then_no_more_mail()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        var (test, admin) = await AdminClient.StartAsync(smtp.ClientConfig());
        await using var _ = test;
        using var __ = admin;
        using var visitor = new WebSession(test);
        await SampleContent.ImportAsync(test);

        // Subscribe to one topic: the confirmation email arrives over SMTP.
        await visitor.GetAsync("/");
        var subscribed = await visitor.PostFormAsync("/subscribe",
            Fields(("email", "ana@example.org"), ("name", "Ana"), ("topics", "depression-and-depressive-symptoms")));
        Assert.Equal(HttpStatusCode.OK, subscribed.StatusCode);
        Outbox.WaitForMailQueue(test);
        var confirmation = Assert.Single(smtp.Received, m => m.To.Contains("ana@example.org")).Message;

        // Confirm from the link: the GET shows a button, the POST confirms.
        var (_, confirmPage) = await visitor.GetAsync(Outbox.LinkTo(confirmation, "/confirm"));
        var token = System.Net.WebUtility.HtmlDecode(
            System.Text.RegularExpressions.Regex.Match(confirmPage, "name=\"token\" value=\"([^\"]+)\"").Groups[1].Value);
        var confirmed = await visitor.PostFormAsync("/confirm", Fields(("token", token)));
        var confirmedPage = await confirmed.Content.ReadAsStringAsync();
        var preferences = System.Text.RegularExpressions.Regex.Match(confirmedPage, "href=\"(/preferences/[^\"]+)\"").Groups[1].Value;

        // Change topics: from depression to outcomes and deterioration.
        await visitor.GetAsync(preferences);
        var saved = await visitor.PostFormAsync(preferences, Fields(("name", "Ana"), ("topics", "outcomes-and-deterioration")));
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);

        // The administrator sends March 2023: the digest honours the new topics.
        var started = await admin.PostAsync("admin/api/editions/2023-03/send", null);
        Assert.True(started.StatusCode == HttpStatusCode.Accepted, await started.Content.ReadAsStringAsync());
        Assert.Equal("/admin/api/editions/2023-03", started.Headers.Location?.OriginalString);
        var sent = await AdminJobs.WaitAsync(admin, "2023-03");
        Assert.Null(sent.LastJob!.Error);
        Assert.Equal(1, sent.Delivery.Counts["sent"]);
        var digest = Assert.Single(smtp.Received, m => m.To.Contains("ana@example.org") && m.Message.Headers.Contains("List-Unsubscribe-Post")).Message;
        var text = digest.TextBody ?? "";
        Assert.Contains("Negative Effects of Psychotherapy", text);
        var mentalize = "Capacity to Mentalize";
        Assert.True(text.IndexOf(mentalize, StringComparison.Ordinal) > text.IndexOf("Also this month", StringComparison.OrdinalIgnoreCase),
            "the summary off her topics is only listed under 'Also this month'");

        // One-click unsubscribe from the List-Unsubscribe header, as a mail provider does it: no cookie, no token.
        var listUnsubscribe = digest.Headers["List-Unsubscribe"] ?? "";
        var url = new Uri(System.Text.RegularExpressions.Regex.Match(listUnsubscribe, "<(https?://[^>]+)>").Groups[1].Value);
        using var provider = test.CreateClient();
        var unsubscribed = await provider.PostAsync(url.PathAndQuery.TrimStart('/'),
            new StringContent("List-Unsubscribe=One-Click", Encoding.ASCII, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.OK, unsubscribed.StatusCode);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await test.Get<ISubscriberStore>().FindByEmailAsync("ana@example.org"))!.Status);

        // No more mail: a resend to her is refused by the engine, and a new edition's send skips her.
        var before = smtp.Received.Count;
        var resend = await admin.PostAsJsonAsync("admin/api/editions/2023-03/resend", new ResendInput("email", "ana@example.org"));
        Assert.Equal(HttpStatusCode.Accepted, resend.StatusCode);
        await AdminJobs.WaitAsync(admin, "2023-03");
        await admin.PostAsync("admin/api/editions/2023-01/send", null);
        await AdminJobs.WaitAsync(admin, "2023-01");
        Assert.Equal(before, smtp.Received.Count);
        var ledger = await test.Get<ISubscriberStore>().ConsentEventsAsync((await test.Get<ISubscriberStore>().FindByEmailAsync("ana@example.org"))!.Id);
        Assert.Equal([ConsentEvent.Subscribed, ConsentEvent.Confirmed, ConsentEvent.PreferencesChanged, ConsentEvent.Unsubscribed],
            ledger.Select(e => e.Event));
        Assert.Equal([ConsentSource.Form, ConsentSource.Form, ConsentSource.Preferences, ConsentSource.OneClick], ledger.Select(e => e.Source));
    }
}
