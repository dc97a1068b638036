using System.Diagnostics;
using System.Net;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Support.WebSession;

namespace PprnetNewsletter.Tests.Delivery;

/// <summary>Single emails (here the confirmation) go through the durable mail queue: a relay outage delays them, nothing loses them.</summary>
public class MailQueueTests
{
    static async Task<HttpResponseMessage> SubscribeAsync(TestApp test, string email)
    {
        using var visitor = new WebSession(test, "Firefox/140.0");
        await visitor.GetAsync("/");
        return await visitor.PostFormAsync("/subscribe", Fields(("email", email), ("name", "Ana"), ("topics", "empathy")));
    }

    static bool Arrived(SmtpTestServer smtp, string email) => smtp.Received.Any(m => m.To.Contains(email, StringComparer.OrdinalIgnoreCase));

    [Fact]
    public async Task A_confirmation_asked_for_while_the_relay_is_down_arrives_soon_after_it_returns_and_the_page_answers_at_once()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.StartWebAsync(smtp.ClientConfig(connections: 1));
        smtp.Down = true;

        var watch = Stopwatch.StartNew();
        var response = await SubscribeAsync(test, "ana@example.org");
        var answeredIn = watch.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(10));
        var duringOutage = smtp.Received.Count;
        smtp.Down = false;
        var back = Stopwatch.StartNew();
        while (!Arrived(smtp, "ana@example.org") && back.Elapsed < TimeSpan.FromSeconds(90))
        {
            await Task.Delay(50);
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(answeredIn < TimeSpan.FromSeconds(5), $"the page took {answeredIn}");
        Assert.Equal(0, duringOutage);
        Assert.True(Arrived(smtp, "ana@example.org"), "the confirmation never arrived");
        Assert.True(back.Elapsed <= TimeSpan.FromSeconds(60), $"the confirmation came {back.Elapsed} after the relay returned");
        Assert.Contains("/confirm?token=", Assert.Single(smtp.Received).Message.TextBody);
        // The server holds the message before the sender reads its reply and settles the queue's row: look a while.
        var settled = Stopwatch.StartNew();
        while (await test.Get<MailQueue>().CountOpenAsync() > 0 && settled.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }
        Assert.Equal(0, await test.Get<MailQueue>().CountOpenAsync());
    }

    [Fact]
    public async Task A_confirmation_queued_before_a_restart_is_sent_by_the_restarted_service()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        var shared = Path.Combine(Path.GetTempPath(), "pprnet-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(shared);
        var config = smtp.ClientConfig(connections: 1);
        config["Storage:Database"] = Path.Combine(shared, "pprnet.db");
        try
        {
            smtp.Down = true;
            await using (var before = await TestApp.StartWebAsync(config))
            {
                Assert.Equal(HttpStatusCode.OK, (await SubscribeAsync(before, "ana@example.org")).StatusCode);
                await Task.Delay(TimeSpan.FromSeconds(2));   // an attempt or two fail while the relay is down
            }
            smtp.Down = false;
            Assert.Empty(smtp.Received);

            await using var after = await TestApp.StartWebAsync(config);
            var watch = Stopwatch.StartNew();
            while (!Arrived(smtp, "ana@example.org") && watch.Elapsed < TimeSpan.FromSeconds(90))
            {
                await Task.Delay(50);
            }

            Assert.True(Arrived(smtp, "ana@example.org"), "the confirmation was lost in the restart");
            Assert.Single(smtp.Received);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(shared, recursive: true);
        }
    }

    [Fact]
    public async Task A_sent_email_keeps_no_body_and_an_erasure_removes_the_persons_queued_email()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.StartWebAsync(smtp.ClientConfig(connections: 1));
        await SubscribeAsync(test, "ana@example.org");
        var watch = Stopwatch.StartNew();
        while (!Arrived(smtp, "ana@example.org") && watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(50);
        }
        Assert.True(Arrived(smtp, "ana@example.org"), "the confirmation never arrived");
        smtp.Down = true;
        await SubscribeAsync(test, "ben@example.org");
        var subscribers = test.Get<PprnetNewsletter.Subscribers.ISubscriberStore>();
        var ben = await subscribers.FindByEmailAsync("ben@example.org");

        Assert.NotNull(ben);
        Assert.True(await subscribers.EraseAsync(ben.Id, PprnetNewsletter.Subscribers.ConsentContext.Admin));

        await using var connection = await test.Get<PprnetNewsletter.Storage.Db>().OpenAsync();
        var rows = (await Dapper.SqlMapper.QueryAsync<(string Recipient, string State, long Length)>(connection,
            "SELECT recipient, state, length(message) FROM mail_queue")).ToList();
        // The sent confirmation is kept as a record (who, when) but its body, with its link, is gone; ben's is gone entirely.
        var sent = Assert.Single(rows);
        Assert.Equal(("ana@example.org", "sent", 0L), sent);
    }
}
