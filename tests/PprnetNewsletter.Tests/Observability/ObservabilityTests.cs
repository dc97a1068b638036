using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Observability;

/// <summary>
/// OpenTelemetry listens to meters by name across the whole process, so another test's application, started or
/// disposed during a scrape, would add its instruments to this one's or end the stream they share: these tests run
/// alone, after the parallel ones.
/// </summary>
[CollectionDefinition(nameof(ProcessWideMetrics), DisableParallelization = true)]
public sealed class ProcessWideMetrics;

[Collection(nameof(ProcessWideMetrics))]
public class ObservabilityTests
{
    [Fact]
    public async Task Metrics_need_the_admin_key_and_show_messages_ledger_rows_subscribers_and_smtp_latency_in_prometheus_text()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        var (test, admin) = await AdminClient.StartAsync(smtp.ClientConfig());
        await using var _ = test;
        using var __ = admin;
        await SampleContent.ImportAsync(test);
        var store = test.Get<ISubscriberStore>();
        await store.AddAsync(new NewSubscriber("ana@example.org", "", TopicSelection.All), ConsentContext.Admin);
        await store.AddAsync(new NewSubscriber("ben@example.org", "", TopicSelection.All), ConsentContext.Admin);
        await store.AddAsync(new NewSubscriber("cy@example.org", "", TopicSelection.All, SubscriberStatus.Paused), ConsentContext.Admin);
        smtp.Script("ben@example.org", SmtpFault.AtRcpt(550, "5.1.1 No such user"));
        await test.Get<PprnetNewsletter.Delivery.EditionSender>().SendAsync("2023-03");
        using var anonymous = test.CreateClient();

        var refused = await anonymous.GetAsync("metrics");
        var metrics = await ScrapeAsync(admin);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Matches(new Regex(@"^pprnet_delivery_attempts_total\{[^}]*outcome=""sent""[^}]*\} 1( |$)", RegexOptions.Multiline), metrics);
        Assert.Matches(new Regex(@"^pprnet_delivery_attempts_total\{[^}]*outcome=""failed""[^}]*\} 1( |$)", RegexOptions.Multiline), metrics);
        Assert.Matches(new Regex(@"^pprnet_ledger_rows\{[^}]*state=""sent""[^}]*\} 1( |$)", RegexOptions.Multiline), metrics);
        // ben's 5.1.1 marked him bounced.
        Assert.Matches(new Regex(@"^pprnet_subscribers\{[^}]*status=""bounced""[^}]*\} 1( |$)", RegexOptions.Multiline), metrics);
        Assert.Matches(new Regex(@"^pprnet_subscribers\{[^}]*status=""paused""[^}]*\} 1( |$)", RegexOptions.Multiline), metrics);
        Assert.Matches(new Regex(@"^mailkit_net_smtp_client_operation_duration\w*_bucket\{[^}]*network_operation=""send""", RegexOptions.Multiline), metrics);

        // A signed-in administrator sees the same at /admin/metrics, without the key.
        using var session = await AdminDashboard.SignInAsync(test);
        // OpenTelemetry leaves out of a scrape an instrument whose read threw (say, on a busy database), and a scraper
        // takes that in its stride: what matters is that the figures reach the administrator, so a few scrapes are allowed.
        var sent = new Regex(@"^pprnet_ledger_rows\{[^}]*state=""sent""[^}]*\} 1( |$)", RegexOptions.Multiline);
        var forAdministrator = "";
        for (var scrape = 0; scrape < 5 && !sent.IsMatch(forAdministrator); scrape++)
        {
            await Task.Delay(TimeSpan.FromSeconds(scrape));
            var (status, text) = await session.GetAsync("/admin/metrics");
            Assert.Equal(HttpStatusCode.OK, status);
            forAdministrator = text;
        }
        Assert.Matches(sent, forAdministrator);
    }

    static async Task<string> ScrapeAsync(HttpClient admin)
    {
        // The exporter caches a scrape briefly; the instruments are read when it builds one.
        var response = await admin.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task Health_as_json_reports_the_relay_the_schedules_next_run_and_free_disk_space()
    {
        // A relay that is not there: a port just closed again on the loopback.
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var test = await TestApp.StartWebAsync(new Dictionary<string, string?> { ["Smtp:Host"] = "127.0.0.1", ["Smtp:Port"] = port.ToString() });
        using var client = test.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "health");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        var response = await client.SendAsync(request);
        var plain = await client.GetStringAsync("health");

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var checks = json.RootElement.GetProperty("checks");
        Assert.Equal("Degraded", json.RootElement.GetProperty("status").GetString());
        Assert.Equal("Degraded", plain);
        Assert.Equal("Degraded", checks.GetProperty("smtp").GetProperty("status").GetString());
        Assert.Equal("Healthy", checks.GetProperty("database").GetProperty("status").GetString());
        var next = DateTimeOffset.Parse(checks.GetProperty("scheduler").GetProperty("data").GetProperty("next_fire_time").GetString()!,
            System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(next, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(32));
        Assert.True(checks.GetProperty("disk").GetProperty("data").GetProperty("free_bytes").GetInt64() > 0);
    }
}

public class JsonLoggingTests
{
    [Fact]
    public async Task Logging_format_json_switches_the_console_to_one_json_object_per_line()
    {
        await using var json = await TestApp.CreateAsync(new Dictionary<string, string?> { ["Logging:Format"] = "json" });
        await using var plain = await TestApp.CreateAsync();

        string FormatterOf(TestApp test) => test.Get<Microsoft.Extensions.Options.IOptionsMonitor<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>>()
            .CurrentValue.FormatterName!;

        Assert.Equal(Microsoft.Extensions.Logging.Console.ConsoleFormatterNames.Json, FormatterOf(json));
        Assert.Equal(Microsoft.Extensions.Logging.Console.ConsoleFormatterNames.Simple, FormatterOf(plain));
    }
}
