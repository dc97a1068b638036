using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Dapper;
using Npgsql;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Tests.Content;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Storage;

/// <summary>
/// Several real `pprnet` processes on one PostgreSQL database, as a production set-up runs them: two services behind
/// what would be a load balancer and an operator's `digest send`, one service killed with SIGKILL in the middle.
/// </summary>
public sealed class PostgresInstancesTests
{
    const string Month = "2023-03";

    [Fact]
    public async Task Two_services_and_a_digest_send_reach_20000_readers_once_apart_from_the_killed_services_messages_in_flight()
    {
        const int readers = 20_000;
        const int connections = 4;
        await using var smtp = await SmtpTestServer.StartAsync();
        var key = AdminClient.NewKey();
        var config = await PostgresServer.ConfigAsync(smtp.ClientConfig(connections));
        config["Admin:ApiKey"] = key;
        config["Content:FirstStartFolder"] = "";
        // The survivors' retry job looks every second for an edition whose run stopped renewing.
        config["Delivery:RetryPollInterval"] = "00:00:01";
        await using var test = await TestApp.CreateAsync(config);
        await test.Get<SummaryImporter>().ImportAsync(ContentFixtures.SampleFolder);
        await using (var connection = new NpgsqlConnection(config["Storage:ConnectionString"]))
        {
            await connection.ExecuteAsync("""
                INSERT INTO subscribers (email, name, status, all_topics, created_at, confirmed_at, updated_at)
                SELECT 'reader' || i || '@example.org', 'Reader', 'confirmed', true, now(), now(), now() FROM generate_series(1, @readers) AS i
                """, new { readers });
        }

        using var first = StartService(test, config, out var firstUrl);
        using var second = StartService(test, config, out var secondUrl);
        try
        {
            await WaitHealthyAsync(firstUrl);
            await WaitHealthyAsync(secondUrl);
            using var admin = new HttpClient { BaseAddress = firstUrl };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

            var started = await admin.PostAsync($"admin/api/editions/{Month}/send", null);
            Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
            var operatorSend = PprnetProcess.RunAsync(test, config, "digest", "send", Month);
            await WaitUntilAsync(() => smtp.Received.Count >= 4_000, TimeSpan.FromMinutes(2));
            first.Kill();   // SIGKILL: the instance that holds the edition dies with messages in flight
            var atKill = smtp.Received.Count;

            var run = await operatorSend;

            Assert.True(atKill < readers, "the first service had finished before it was killed");
            Assert.True(run.ExitCode == 0, $"the operator's send did not finish the edition: {run.Out} {run.Error}");
            // It found the first service's run and waited for it rather than sending beside it.
            Assert.Contains("waiting for the send already running", run.Error);
            Assert.Contains($"The {Month} edition is complete.", run.Out);
            var counts = smtp.CountByRecipient();
            var everyone = Enumerable.Range(1, readers).Select(i => $"reader{i}@example.org").ToList();
            Assert.All(everyone, e => Assert.True(counts.GetValueOrDefault(e) >= 1, $"{e} never got the digest"));
            // Only what the killed instance had in flight can arrive twice.
            Assert.InRange(smtp.Received.Count - readers, 0, SendRun.UnsettledPerConnection * connections);
            await using var check = new NpgsqlConnection(config["Storage:ConnectionString"]);
            Assert.Equal(readers, await check.ExecuteScalarAsync<long>(
                "SELECT count(*) FROM deliveries d JOIN editions e ON e.id = d.edition_id WHERE e.month = @Month AND d.state = 'sent'", new { Month }));
            Assert.Equal(0, await check.ExecuteScalarAsync<long>(
                "SELECT count(*) FROM deliveries d JOIN editions e ON e.id = d.edition_id WHERE e.month = @Month AND d.state <> 'sent'", new { Month }));
        }
        finally
        {
            foreach (var service in new[] { first, second })
            {
                if (!service.HasExited)
                {
                    service.Kill();
                }
                await service.WaitForExitAsync();
            }
        }
    }

    static Process StartService(TestApp test, Dictionary<string, string?> config, out Uri url)
    {
        url = new Uri($"http://127.0.0.1:{FreePort().ToString(CultureInfo.InvariantCulture)}/");
        var own = new Dictionary<string, string?>(config) { ["Web:Urls"] = url.ToString().TrimEnd('/') };
        var process = Process.Start(PprnetProcess.StartInfo(test, own, new Dictionary<string, string>(), "serve"))!;
        // Drain its output, or a full pipe would stall the service.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    static async Task WaitHealthyAsync(Uri url)
    {
        using var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(5) };
        await WaitUntilAsync(async () =>
        {
            try
            {
                return (await client.GetAsync("health")).IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, TimeSpan.FromMinutes(3));
    }

    static Task WaitUntilAsync(Func<bool> condition, TimeSpan limit) => WaitUntilAsync(() => Task.FromResult(condition()), limit);

    static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        while (!await condition())
        {
            await Task.Delay(100, timeout.Token);
        }
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
