using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;
using Xunit.Abstractions;
using static PprnetNewsletter.Tests.Support.WebSession;

namespace PprnetNewsletter.Tests.Delivery;

/// <summary>
/// Smtp:MaxConnections and Smtp:MessagesPerSecond hold across processes that share the database, whatever each one
/// sends: real `pprnet` processes against a real SMTP server on loopback, measured at the server.
/// </summary>
public class GlobalRelayLimitTests(ITestOutputHelper output)
{
    /// <summary>The most arrivals within any one second (a window starting at each arrival).</summary>
    static int BusiestSecond(long[] sortedTimestamps) => MostWithin(sortedTimestamps, TimeSpan.FromSeconds(1));

    /// <summary>The most of <paramref name="sortedTimestamps"/> (Stopwatch timestamps) within any <paramref name="window"/>.</summary>
    internal static int MostWithin(long[] sortedTimestamps, TimeSpan window)
    {
        var most = 0;
        for (int i = 0, j = 0; i < sortedTimestamps.Length; i++)
        {
            while (Stopwatch.GetElapsedTime(sortedTimestamps[j], sortedTimestamps[i]) >= window)
            {
                j++;
            }
            most = Math.Max(most, i - j + 1);
        }
        return most;
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Two_processes_sending_two_editions_at_once_stay_within_one_rate_and_one_pool_of_connections_at_the_relay(StorageProvider engine)
    {
        // 1,500 readers of each edition: 3,000 messages, 15 s at 200/s in all; each process alone would be allowed 200/s.
        const int readers = 1_500;
        const int perSecond = 200;
        const int connections = 4;
        await using var smtp = await SmtpTestServer.StartAsync();
        var config = smtp.ClientConfig(connections);
        config["Smtp:MessagesPerSecond"] = perSecond.ToString(CultureInfo.InvariantCulture);
        if (engine == StorageProvider.Postgres)
        {
            config = await PostgresServer.ConfigAsync(config);
        }
        await using var test = await TestApp.CreateAsync(config);
        var emails = await UnattendedSendTests.SeedAsync(test, readers);
        var arrivals = new ConcurrentQueue<(long At, string Subject)>();
        smtp.BeforeAccept = m => arrivals.Enqueue((Stopwatch.GetTimestamp(), m.Message.Subject ?? ""));

        var runs = await Task.WhenAll(
            PprnetProcess.RunAsync(test, config, "digest", "send", "2023-03"),
            PprnetProcess.RunAsync(test, config, "digest", "send", "2023-01"));

        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.Out + r.Error));
        var counts = smtp.CountByRecipient();
        Assert.Equal(emails.Order(), counts.Keys.Order());
        Assert.All(counts, c => Assert.Equal(2, c.Value));
        var bySubject = arrivals.GroupBy(a => a.Subject).ToList();
        Assert.Equal(2, bySubject.Count);
        // The two sends overlapped for a good while: each one's messages arrived while the other's were arriving.
        var (first, second) = (bySubject[0].Select(a => a.At).Order().ToArray(), bySubject[1].Select(a => a.At).Order().ToArray());
        var overlap = Stopwatch.GetElapsedTime(Math.Max(first[0], second[0]), Math.Min(first[^1], second[^1]));
        Assert.True(overlap >= TimeSpan.FromSeconds(3), $"the sends overlapped for {overlap} only: nothing shared was tested");
        // At the relay: no second holds more than the one rate, and no moment more than the one pool.
        var busiest = BusiestSecond([.. arrivals.Select(a => a.At).Order()]);
        output.WriteLine($"busiest second {busiest}, most connections open {smtp.MostOpen}, sends overlapped {overlap}");
        Assert.True(busiest <= perSecond, $"{busiest} messages arrived within one second; the limit is {perSecond}");
        Assert.InRange(smtp.MostOpen, 1, connections);
        // Each process gave its slots back on the way out.
        Assert.Equal(0, await EngineStores.ScalarAsync<long>(test, "SELECT count(*) FROM relay_slots WHERE holder IS NOT NULL"));
        Assert.Equal(connections, await EngineStores.ScalarAsync<long>(test, "SELECT count(*) FROM relay_slots"));
    }

    [Fact]
    public async Task A_confirmation_asked_for_during_a_hand_started_send_that_holds_the_only_connection_gets_a_turn_within_seconds()
    {
        // One connection in all, at 40/s: the send (800 readers, 20 s) holds it; the service needs it for one email.
        const int readers = 800;
        const int perSecond = 40;
        await using var smtp = await SmtpTestServer.StartAsync();
        var config = smtp.ClientConfig(connections: 1);
        config["Smtp:MessagesPerSecond"] = perSecond.ToString(CultureInfo.InvariantCulture);
        await using var service = await TestApp.StartWebAsync(config);
        await UnattendedSendTests.SeedAsync(service, readers);
        var arrivals = new ConcurrentQueue<(long At, bool Confirmation)>();
        smtp.BeforeAccept = m => arrivals.Enqueue((Stopwatch.GetTimestamp(), m.To.Contains("ana@example.org", StringComparer.OrdinalIgnoreCase)));

        var send = PprnetProcess.RunAsync(service, config, "digest", "send", "2023-03");
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            while (smtp.Received.Count < 100)
            {
                await Task.Delay(10, timeout.Token);
            }
        }
        using var visitor = new WebSession(service, "Firefox/140.0");
        await visitor.GetAsync("/");
        var asked = Stopwatch.GetTimestamp();
        var subscribed = await visitor.PostFormAsync("/subscribe", Fields(("email", "ana@example.org"), ("name", "Ana"), ("topics", "empathy")));
        var run = await send;

        Assert.Equal(System.Net.HttpStatusCode.OK, subscribed.StatusCode);
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        var confirmation = Assert.Single(arrivals, a => a.Confirmation);
        // A turn (5 s held) plus a heartbeat or two each side, and the second the send's last messages count for.
        var waited = Stopwatch.GetElapsedTime(asked, confirmation.At);
        output.WriteLine($"the confirmation came {waited} after it was asked for");
        Assert.True(waited <= TimeSpan.FromSeconds(12), $"the confirmation came {waited} after it was asked for");
        Assert.Contains(arrivals, a => !a.Confirmation && a.At > confirmation.At);   // the send went on afterwards
        Assert.Equal(readers + 1, smtp.Received.Count);
        Assert.Equal(1, smtp.MostOpen);
        Assert.True(BusiestSecond([.. arrivals.Select(a => a.At).Order()]) <= perSecond);
    }
}
