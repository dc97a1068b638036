using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Tests.Content;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Delivery.DeliveryTestData;

namespace PprnetNewsletter.Tests.Delivery;

/// <summary>
/// Sends nobody watches: real `pprnet` processes killed with SIGKILL, started beside each other and beside the
/// service, on the default lease settings, against a real SMTP server.
/// </summary>
public class UnattendedSendTests
{
    const string SampleMonth = "2023-03";

    /// <summary>The sample content and <paramref name="count"/> confirmed readers of every topic, in one statement (either engine).</summary>
    internal static async Task<IReadOnlyList<string>> SeedAsync(TestApp test, int count)
    {
        await test.Get<SummaryImporter>().ImportAsync(ContentFixtures.SampleFolder);
        await EngineStores.ExecuteAsync(test, """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @count)
            INSERT INTO subscribers (email, name, status, all_topics, created_at, confirmed_at, updated_at)
            SELECT 'reader' || i || '@example.org', 'Reader', 'confirmed', @all, @at, @at, @at FROM n
            """, new { count, all = true, at = new DateTimeOffset(2023, 1, 1, 0, 0, 0, TimeSpan.Zero) });
        return Enumerable.Range(1, count).Select(i => $"reader{i}@example.org").ToList();
    }

    [Fact]
    public async Task Three_kill_9s_during_a_12000_reader_send_then_one_immediate_send_reaches_everyone_and_exits_0_only_when_complete()
    {
        const int readers = 12_000;
        const int connections = 4;
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.CreateAsync();
        var emails = await SeedAsync(test, readers);
        // Default lease settings: only where the relay is.
        var config = smtp.ClientConfig(connections);

        var killed = new List<PprnetRun>();
        for (var round = 0; round < 3; round++)
        {
            Process? child = null;
            var killAt = smtp.Received.Count + 1_500;
            var killedThis = 0;
            smtp.BeforeAccept = _ =>
            {
                if (smtp.Received.Count >= killAt && Volatile.Read(ref child) is { } running && Interlocked.Exchange(ref killedThis, 1) == 0)
                {
                    running.Kill();   // SIGKILL: no chance to commit what the server is about to accept, nor to give back its lease
                }
            };
            killed.Add(await PprnetProcess.RunAsync(test, config, p => Volatile.Write(ref child, p), "digest", "send", SampleMonth));
            smtp.BeforeAccept = null;
            Assert.True(Volatile.Read(ref killedThis) == 1, $"round {round}: the send ended before the kill: {killed[^1].Out} {killed[^1].Error}");
        }
        var left = await StatesAsync(test, SampleMonth);
        var final = await PprnetProcess.RunAsync(test, config, "digest", "send", SampleMonth);

        Assert.All(killed, k => Assert.NotEqual(0, k.ExitCode));
        Assert.True(left.GetValueOrDefault("sending") > 0, "the last kill left no row in flight: nothing to take over");
        Assert.True(final.ExitCode == 0, $"the final send did not finish: {final.Out} {final.Error}");
        Assert.Matches(@"waiting \d+ s for [\d,]+ rows of an interrupted run", final.Error);
        Assert.Contains("The 2023-03 edition is complete.", final.Out);
        var counts = smtp.CountByRecipient();
        Assert.All(emails, e => Assert.True(counts.GetValueOrDefault(e) >= 1, $"{e} was skipped"));
        // Each kill can repeat at most the messages it had in flight.
        Assert.InRange(smtp.Received.Count - readers, 0, 3 * SendRun.UnsettledPerConnection * connections);
        Assert.Equal(new Dictionary<string, long> { ["sent"] = readers }, await StatesAsync(test, SampleMonth));
    }

    [Fact]
    public async Task The_service_and_two_hand_started_sends_of_one_edition_send_each_reader_once_within_the_shared_rate_limit()
    {
        // 15 s at the limit: long enough that the two hand-started processes (a few seconds each to start on a busy
        // machine) find the service's run still going, which is what the test is about.
        const int readers = 3_000;
        const int perSecond = 200;
        await using var smtp = await SmtpTestServer.StartAsync();
        var config = smtp.ClientConfig(connections: 4);
        config["Smtp:MessagesPerSecond"] = perSecond.ToString(System.Globalization.CultureInfo.InvariantCulture);
        config["Delivery:RetryPollInterval"] = "00:00:01";   // the service's retry job looks all the time
        var (test, admin) = await AdminClient.StartAsync(config);
        await using var _ = test;
        using var __ = admin;
        var emails = await SeedAsync(test, readers);
        var arrivals = new ConcurrentQueue<long>();
        smtp.BeforeAccept = _ => arrivals.Enqueue(Stopwatch.GetTimestamp());

        var start = Stopwatch.GetTimestamp();
        var started = await admin.PostAsync($"admin/api/editions/{SampleMonth}/send", null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var first = PprnetProcess.RunAsync(test, config, "digest", "send", SampleMonth);
        var second = PprnetProcess.RunAsync(test, config, "digest", "send", SampleMonth);
        // While it runs, the API refuses another send and names who holds the edition.
        await WaitUntilAsync(() => smtp.Received.Count >= 100);
        var refused = await admin.PostAsync($"admin/api/editions/{SampleMonth}/send", null);
        var runs = await Task.WhenAll(first, second);
        await AdminJobs.WaitAsync(admin, SampleMonth);

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Matches(@"process \d+ on ", await refused.Content.ReadAsStringAsync());
        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.Out + r.Error));
        Assert.All(runs, r => Assert.Contains("waiting for the send already running", r.Error));
        var counts = smtp.CountByRecipient();
        Assert.Equal(emails.Order(), counts.Keys.Order());
        Assert.All(counts, c => Assert.Equal(1, c.Value));
        // The relay sees the one limit. At 200/s (never more than 200 in any second) the list cannot have arrived sooner
        // than this after the start, whatever the server's own stalls; two runs side by side, each at 200/s, take half.
        var times = arrivals.Order().ToArray();
        var took = Stopwatch.GetElapsedTime(start, times[^1]);
        Assert.True(took >= TimeSpan.FromSeconds((readers - perSecond / 10) / (double)perSecond),
            $"{readers} messages arrived within {took}: faster than {perSecond}/s");
        // Nor in bursts: in any three seconds at most three seconds' worth, give or take the bucket and the server's jitter.
        Assert.InRange(GlobalRelayLimitTests.MostWithin(times, TimeSpan.FromSeconds(3)), 1, 3 * perSecond * 5 / 4);
    }

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
