using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Delivery.DeliveryTestData;

namespace PprnetNewsletter.Tests.Delivery;

/// <summary>Relay faults read by the whole reply: what stops a run, what pauses it, what only delays one row.</summary>
public class RelayFaultTests
{
    [Fact]
    public async Task A_relay_refusing_STARTTLS_with_454_stops_the_run_within_seconds_with_nothing_deferred_or_failed()
    {
        await using var relay = ScriptedRelay.Start(["STARTTLS", "8BITMIME"], _ => "454 4.7.0 TLS not available due to local problem");
        var config = new Dictionary<string, string?>
        {
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = relay.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Smtp:Security"] = "StartTls",
        };
        await using var test = await TestApp.CreateAsync(config);   // default retries and pauses
        await SeedEditionAsync(test);
        await SeedSubscribersAsync(test, 200);

        var watch = Stopwatch.StartNew();
        var halted = await Assert.ThrowsAsync<DeliveryHaltedException>(() => test.Sender().SendAsync(Month));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"it took {watch.Elapsed} to stop");
        Assert.Contains("454", halted.Message);
        Assert.Contains("Smtp:Security", halted.Message);
        Assert.Equal(new Dictionary<string, long> { ["pending"] = 200 }, await StatesAsync(test));
        Assert.InRange(relay.Connections, 1, 4);
    }

    /// <summary>Messages per second of one send of <paramref name="readers"/>, every tenth reader answered 451 at first if asked.</summary>
    static async Task<(double Rate, SendResult Result, SmtpTestServer Smtp)> SendAsync(int readers, bool greylist)
    {
        var smtp = await SmtpTestServer.StartAsync();
        // Three retries from 100 ms: short enough that the wait of the last retried rows does not dominate a send of a
        // second or two, long enough that a back-off holding its connection (100 ms per 451) would cut the throughput to
        // about a quarter at 1,000 messages/s, and under a tenth at 5,000.
        var config = smtp.ClientConfig(connections: 4);
        config["Delivery:RetryDelay"] = "00:00:00.100";
        await using var test = await TestApp.CreateAsync(config);
        await SeedEditionAsync(test);
        var emails = await SeedSubscribersAsync(test, readers);
        if (greylist)
        {
            foreach (var email in emails.Where((_, i) => i % 10 == 0))
            {
                smtp.Script(email, SmtpFault.AfterData(451, "4.7.1 Greylisted, try again later"));
            }
        }
        var watch = Stopwatch.StartNew();
        var result = await test.Sender().SendAsync(Month);
        return (result.Sent / watch.Elapsed.TotalSeconds, result, smtp);
    }

    [Fact]
    public async Task Ten_percent_of_451_replies_keep_at_least_half_the_throughput_and_every_row_is_sent_once_with_its_history()
    {
        const int readers = 4_000;
        // Alternated twice, best of each: the machine's load moves between runs, and a back-off that held the connection
        // would cost far more than that (about 20 times, when it did).
        double clean = 0, faulted = 0;
        SendResult? result = null;
        IReadOnlyDictionary<string, int> received = new Dictionary<string, int>();
        for (var round = 0; round < 2; round++)
        {
            var (cleanRate, _, cleanSmtp) = await SendAsync(readers, greylist: false);
            await cleanSmtp.DisposeAsync();
            clean = Math.Max(clean, cleanRate);
            var (faultedRate, faultedResult, faultedSmtp) = await SendAsync(readers, greylist: true);
            await faultedSmtp.DisposeAsync();
            faulted = Math.Max(faulted, faultedRate);
            (result, received) = (faultedResult, faultedSmtp.CountByRecipient());
        }

        Assert.True(faulted >= clean / 2, $"{faulted:N0} messages/s with 10 % 451 against {clean:N0} without");
        Assert.Equal((readers, 0L, 0L), (result!.Sent, result.Deferred, result.Failed));
        Assert.Equal(readers, received.Count);
        Assert.All(received, c => Assert.Equal(1, c.Value));
    }

    [Fact]
    public async Task Every_attempt_is_a_history_row_and_the_result_counts_rows_by_their_final_state()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.CreateAsync(Fast(smtp.ClientConfig(connections: 2)));
        await SeedEditionAsync(test);
        var emails = await SeedSubscribersAsync(test, 10);
        smtp.Script(emails[0], SmtpFault.AfterData(451, "4.3.0 Try again later"), SmtpFault.AfterData(451, "4.3.0 Try again later"));
        smtp.Script(emails[1], SmtpFault.Drop);

        var result = await test.Sender().SendAsync(Month);

        Assert.Equal((10L, 0L, 0L), (result.Sent, result.Deferred, result.Failed));
        var history = (await ScalarAsync<string>(test, """
            SELECT group_concat(a.outcome || ':' || coalesce(a.smtp_code, ''), ',') FROM delivery_attempts a
            JOIN deliveries d ON d.id = a.delivery_id JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = @e ORDER BY a.id
            """, new { e = emails[0] }));
        Assert.Equal("deferred:451,deferred:451,sent:", history);
        Assert.Equal(2, await ScalarAsync<long>(test, """
            SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id JOIN subscribers s ON s.id = d.subscriber_id
            WHERE s.email = @e
            """, new { e = emails[1] }));
        Assert.Equal(13, await ScalarAsync<long>(test, "SELECT count(*) FROM delivery_attempts"));
    }

    [Fact]
    public async Task An_attempt_the_relay_never_answers_is_a_history_row_of_its_own_after_the_time_out()
    {
        // The relay says nothing to one recipient's RCPT TO: each attempt ends at Smtp:Timeout, and each is history.
        await using var relay = ScriptedRelay.Start(["8BITMIME"], line => line.Contains("<silent1@", StringComparison.Ordinal) ? null : "250 2.0.0 Ok");
        var config = Fast(new Dictionary<string, string?>
        {
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = relay.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Smtp:MaxConnections"] = "2",
            ["Smtp:Timeout"] = "00:00:00.500",
            ["Delivery:DeferredRetryInterval"] = "01:00:00",   // deferred once: not due again within this run
        });
        await using var test = await TestApp.CreateAsync(config);
        await SeedEditionAsync(test);
        await SeedSubscribersAsync(test, 3);
        await SeedSubscribersAsync(test, 1, "silent");

        var result = await test.Sender().SendAsync(Month);

        Assert.Equal((3L, 1L), (result.Sent, result.Deferred));
        var history = await ScalarAsync<string>(test, """
            SELECT group_concat(a.outcome || ':' || a.error, '|') FROM delivery_attempts a
            JOIN deliveries d ON d.id = a.delivery_id JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email LIKE 'silent%' ORDER BY a.id
            """);
        // Delivery:RetryAttempts is 2: three attempts, the first two retried within the run, the last the outcome.
        Assert.Equal(3, history.Split('|').Length);
        Assert.All(history.Split('|'), attempt => Assert.Contains("timed out", attempt, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Composing_that_fails_for_twenty_rows_in_a_row_stops_the_run_with_the_exception_and_leaves_the_rows_pending()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.CreateAsync(Fast(smtp.ClientConfig(connections: 2)));
        await SeedEditionAsync(test);
        await SeedSubscribersAsync(test, 500);

        var halted = await Assert.ThrowsAsync<DeliveryHaltedException>(() =>
            test.Sender(matches: _ => throw new InvalidOperationException("the template refers to a missing field")).SendAsync(Month));

        Assert.Contains($"composing the digest failed for {SendRun.ComposeFailuresToStop} subscribers in a row", halted.Message);
        Assert.Contains("the template refers to a missing field", halted.Message);
        Assert.IsType<InvalidOperationException>(halted.InnerException);
        Assert.Equal(new Dictionary<string, long> { ["pending"] = 500 }, await StatesAsync(test));
        Assert.Empty(smtp.Received);
    }

    [Fact]
    public async Task A_pooled_connection_the_relay_closed_while_idle_is_checked_and_replaced_without_a_failure()
    {
        // A relay that ends sessions silent for 1 s; connections idle for over 0.5 s are checked before use.
        await using var relay = ScriptedRelay.Start(["8BITMIME"], _ => "250 2.0.0 Ok", closeIdleAfter: TimeSpan.FromSeconds(1));
        var config = new Dictionary<string, string?>
        {
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = relay.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Smtp:MaxConnections"] = "1",
            ["Smtp:IdleTimeout"] = "00:00:00.500",
        };
        await using var test = await TestApp.CreateAsync(config);
        var transport = test.Get<IMailTransport>();
        static MimeKit.MimeMessage Message(int i) => new(
            [new MimeKit.MailboxAddress("PPRNet", "digest@pprnet.example.org")], [new MimeKit.MailboxAddress("", $"reader{i}@example.org")],
            $"Message {i}", new MimeKit.TextPart("plain") { Text = "Hello" });

        transport.Send(Message(1), CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(2));   // the relay has closed the session by now
        transport.Send(Message(2), CancellationToken.None);

        Assert.Equal(2, relay.Messages);
        Assert.Equal(2, relay.Connections);
    }
}
