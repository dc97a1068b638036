using System.Net;
using System.Text.Json;
using PprnetNewsletter.Bounces;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Tests.Content;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Delivery.DeliveryTestData;

namespace PprnetNewsletter.Tests.Bounces;

/// <summary>
/// The acceptance run: on the defaults (no VERP) plus a Dovecot mailbox, digests sent through the relay, reports about
/// them in the mailbox, and the built binary's <c>pprnet bounces poll</c>; the outcome seen through the admin API.
/// </summary>
public class BouncePollVerbTests
{
    [Fact]
    public async Task Bounces_poll_bounces_unsubscribes_and_ignores_as_each_report_says_and_the_admin_api_shows_why()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var dovecot = await DovecotServer.StartAsync();
        var (test, admin) = await AdminClient.StartAsync(Fast(smtp.ClientConfig()));
        await using var _ = test;
        using var __ = admin;
        await test.Get<SummaryImporter>().ImportAsync(ContentFixtures.SampleFolder);
        await SeedSubscribersAsync(test, 5);
        await test.Get<EditionSender>().SendAsync(Month);
        var digests = Enumerable.Range(1, 5).Select(i => smtp.Received.Single(m => m.To.Single() == $"reader{i}@example.org")).ToList();
        // Without Bounces:Address the envelope sender is the From address, as before.
        Assert.All(digests, d => Assert.Equal("digest@pprnet.example.org", d.From));

        await dovecot.AppendAsync(Reports.PostfixDsn(digests[0], "dsn-1"));
        await dovecot.AppendAsync(Reports.ArfComplaint(digests[1], "arf-1"));
        await dovecot.AppendAsync(Reports.MailtoUnsubscribe(digests[2], "mailto-1"));
        await dovecot.AppendAsync(Reports.VacationReply(digests[3], "away-1"));

        var run = await PprnetProcess.RunAsync(test, dovecot.ClientConfig(), "bounces", "poll");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Matches(@"(?m)^permanent\s+1$", run.Out);
        Assert.Matches(@"(?m)^complaint\s+1$", run.Out);
        Assert.Matches(@"(?m)^mailto\s+1$", run.Out);
        Assert.Matches(@"(?m)^autoreply\s+1$", run.Out);
        Assert.Matches(@"(?m)^errors\s+0$", run.Out);

        var statuses = await StatusesAsync(admin);
        Assert.Equal("bounced", statuses["reader1@example.org"]);
        Assert.Equal("unsubscribed", statuses["reader2@example.org"]);
        Assert.Equal("unsubscribed", statuses["reader3@example.org"]);
        Assert.Equal("confirmed", statuses["reader4@example.org"]);
        Assert.Equal("confirmed", statuses["reader5@example.org"]);

        // The bounce that stopped reader1's mail, with its diagnostic, and the message itself.
        using var permanent = await JsonAsync(admin, "admin/api/bounces?kind=permanent");
        var report = permanent.RootElement.GetProperty("items").EnumerateArray().Single();
        Assert.Equal("reader1@example.org", report.GetProperty("email").GetString());
        Assert.Equal("5.1.1", report.GetProperty("status").GetString());
        Assert.Contains("User unknown in virtual mailbox table", report.GetProperty("diagnostic").GetString());
        Assert.StartsWith("subscriber bounced", report.GetProperty("outcome").GetString());
        var raw = await admin.GetAsync($"admin/api/bounces/{report.GetProperty("id").GetInt64()}/raw");
        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        Assert.Equal("message/rfc822", raw.Content.Headers.ContentType!.MediaType);
        Assert.Contains("Undelivered Mail Returned to Sender", await raw.Content.ReadAsStringAsync());

        using var all = await JsonAsync(admin, "admin/api/bounces");
        Assert.Equal(4, all.RootElement.GetProperty("total").GetInt32());
        Assert.Equal(["autoreply", "complaint", "mailto", "permanent"],
            all.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("kind").GetString()).Order());
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("admin/api/bounces?kind=nonsense")).StatusCode);

        var folders = await dovecot.ContentsAsync();
        Assert.Empty(folders["INBOX"]);
        Assert.Equal(4, folders[BounceMailbox.ProcessedFolder].Count);
    }

    [Fact]
    public async Task Bounces_poll_without_a_mailbox_says_what_to_configure()
    {
        await using var test = await TestApp.CreateAsync();
        var run = await PprnetProcess.RunAsync(test, new Dictionary<string, string?>(), "bounces", "poll");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Bounces:Imap:Host", run.Error);
    }

    static async Task<Dictionary<string, string>> StatusesAsync(HttpClient admin)
    {
        using var page = await JsonAsync(admin, "admin/api/subscribers");
        return page.RootElement.GetProperty("items").EnumerateArray()
            .ToDictionary(s => s.GetProperty("email").GetString()!, s => s.GetProperty("status").GetString()!);
    }

    static async Task<JsonDocument> JsonAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }
}
