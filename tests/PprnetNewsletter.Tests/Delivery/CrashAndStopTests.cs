using Dapper;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Delivery.DeliveryTestData;

namespace PprnetNewsletter.Tests.Delivery;

public class CrashAndStopTests
{
    /// <summary>
    /// Sends through the real transport until the server has answered 250 for message number <paramref name="crashAt"/>,
    /// then behaves like a process that died at that instant: that call and every later one never return, so the
    /// engine never learns of the 250 and never commits it.
    /// </summary>
    internal sealed class DiesAfter(IMailTransport inner, int crashAt) : IMailTransport
    {
        readonly ManualResetEventSlim _never = new();
        int _sends;

        public DeliveryReceipt Send(MimeMessage message, CancellationToken ct)
        {
            if (Volatile.Read(ref _sends) >= crashAt)
            {
                _never.Wait(CancellationToken.None);
            }
            var receipt = inner.Send(message, ct);
            if (Interlocked.Increment(ref _sends) >= crashAt)
            {
                _never.Wait(CancellationToken.None);
            }
            return receipt;
        }

        public Task<DeliveryReceipt> SendAsync(MimeMessage message, CancellationToken ct) => throw new NotSupportedException("The engine sends synchronously.");

        public string Describe() => inner.Describe();
    }

    [Fact]
    public async Task An_engine_dying_between_the_250_and_the_commit_is_resumed_with_nobody_skipped_and_duplicates_bounded_by_messages_in_flight()
    {
        const int connections = 3;
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.CreateAsync(Fast(smtp.ClientConfig(connections)));
        await SeedEditionAsync(test);
        var emails = await SeedSubscribersAsync(test, 50);
        var start = DateTimeOffset.UtcNow;
        var diesAt = new DiesAfter(test.Get<IMailTransport>(), crashAt: 20);
        var dead = test.Sender(new FakeTimeProvider(start), diesAt).SendAsync(Month);   // never completes: abandoned
        await WaitUntilAsync(() => smtp.Received.Count >= 20);
        Assert.False(dead.IsCompleted);

        // A restart after the leases ran out (10 minutes by default).
        var restart = new FakeTimeProvider(start + TimeSpan.FromMinutes(11));
        var resumed = await test.Sender(restart).SendAsync(Month);

        var counts = smtp.CountByRecipient();
        Assert.All(emails, e => Assert.True(counts.GetValueOrDefault(e) >= 1, $"{e} was skipped"));
        var duplicates = smtp.Received.Count - emails.Count;
        // The documented bound: each connection may have this many accepted messages whose outcome is not committed
        // yet (on a quiet machine it is about one each; a busy one lets the outcome writer fall further behind).
        Assert.InRange(duplicates, 1, SendRun.UnsettledPerConnection * connections);
        Assert.Equal(new Dictionary<string, long> { ["sent"] = 50 }, await StatesAsync(test));
        Assert.True(resumed.EditionSent);
    }

    [Fact]
    public async Task While_the_ledger_cannot_commit_at_most_the_unsettled_slots_per_connection_go_out_and_the_send_completes_once_it_can()
    {
        const int connections = 2;
        // Enough that a busy machine, slow to take the lock below, still takes it early in the list.
        const int readers = 200;
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.CreateAsync(Fast(smtp.ClientConfig(connections)));
        await SeedEditionAsync(test);
        var emails = await SeedSubscribersAsync(test, readers);
        smtp.BeforeAccept = _ => Thread.Sleep(5); // a server slow enough that the lock below comes early in the list

        var send = test.Sender().SendAsync(Month);
        await WaitUntilAsync(() => smtp.Received.Count >= 5);
        // Another process takes the database's write lock: from now on no outcome can be committed.
        await using var other = await test.Get<Db>().OpenAsync();
        await other.ExecuteAsync("BEGIN IMMEDIATE");
        var committed = await other.ExecuteScalarAsync<long>("SELECT count(*) FROM deliveries WHERE state = 'sent'");
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // without the bound, the whole list goes out in this time
        var receivedWhileLocked = smtp.Received.Count;
        await other.ExecuteAsync("COMMIT");
        var result = await send;

        // A crash now would repeat only the sends not committed: per connection, one on the wire and the rest waiting
        // for a commit.
        const int bound = SendRun.UnsettledPerConnection * connections;
        Assert.True(committed + bound < readers, $"the lock came too late to hold anything back ({committed} committed)");
        Assert.InRange(receivedWhileLocked - committed, 0, bound);
        Assert.Equal(readers, result.Sent);
        Assert.All(emails, e => Assert.Equal(1, smtp.CountByRecipient()[e]));
        Assert.Equal(new Dictionary<string, long> { ["sent"] = readers }, await StatesAsync(test));
    }

    [Fact]
    public async Task A_stop_request_finishes_the_messages_in_flight_returns_the_rest_to_the_queue_and_a_later_run_resumes_without_duplicates()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.CreateAsync(Fast(smtp.ClientConfig(connections: 2)));
        await SeedEditionAsync(test);
        // More than one claim (256 rows): the stop finds the claimer waiting to top its queue up, with rows in it.
        var emails = await SeedSubscribersAsync(test, 300);
        using var ctrlC = new CancellationTokenSource();
        smtp.BeforeAccept = _ =>
        {
            if (smtp.Received.Count >= 10) // not == 10: two sessions accepting together can both see 9, then 11
            {
                ctrlC.Cancel();
            }
        };

        var stopped = await test.Sender().SendAsync(Month, null, ctrlC.Token);
        var states = await StatesAsync(test);
        smtp.BeforeAccept = null;
        var resumed = await test.Sender().SendAsync(Month);

        Assert.Equal("stopped on request", stopped.StoppedBecause);
        Assert.InRange(stopped.Sent, 10, 299);
        Assert.False(states.ContainsKey("sending"));
        Assert.Equal(300 - stopped.Sent, states["pending"]);
        Assert.Equal(300 - stopped.Sent, resumed.Sent);
        Assert.All(emails, e => Assert.Equal(1, smtp.CountByRecipient()[e]));
    }

    [Fact]
    public async Task A_stop_during_a_stalled_exchange_cuts_it_off_after_the_grace_period_instead_of_waiting_for_the_server()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        var config = smtp.ClientConfig(connections: 1);
        config["Smtp:Timeout"] = "00:01:00";
        await using var test = await TestApp.CreateAsync(Fast(config));
        await SeedEditionAsync(test);
        var emails = await SeedSubscribersAsync(test, 5);
        using var serverAnswers = new ManualResetEventSlim();
        using var stalled = new ManualResetEventSlim();
        smtp.BeforeAccept = m =>
        {
            if (m.To.Contains(emails[2]))
            {
                stalled.Set();
                serverAnswers.Wait(TimeSpan.FromSeconds(30)); // the reply to the third message hangs
            }
        };
        using var ctrlC = new CancellationTokenSource();

        var send = test.Sender().SendAsync(Month, null, ctrlC.Token);
        Assert.True(stalled.Wait(TimeSpan.FromSeconds(20)));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await ctrlC.CancelAsync();
        var stopped = await send.WaitAsync(TimeSpan.FromSeconds(20));
        var waited = watch.Elapsed;
        serverAnswers.Set();

        // The engine gives messages in flight 1.5 s, then closes the connection: a minute's time-out is not waited out.
        Assert.InRange(waited, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        Assert.Equal("stopped on request", stopped.StoppedBecause);
        Assert.Equal(2, stopped.Sent);
        Assert.Equal(new Dictionary<string, long> { ["sent"] = 2, ["pending"] = 3 }, await StatesAsync(test));
    }

    static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
