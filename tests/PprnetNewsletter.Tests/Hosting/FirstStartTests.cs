using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using PprnetNewsletter.Tests.Delivery;
using PprnetNewsletter.Scheduling;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Hosting;

/// <summary>What a newcomer sees on the service's first start, from the built binary in its own process.</summary>
public class FirstStartTests
{
    [Fact]
    public async Task The_service_says_it_is_compiling_and_once_listening_prints_the_next_steps()
    {
        await using var test = await TestApp.CreateAsync();
        var config = new Dictionary<string, string?>
        {
            ["Web:Urls"] = "http://127.0.0.1:0",
            ["Digest:CompiledTemplatesPath"] = Path.Combine(test.Folder, "compiled"),   // empty: the first start compiles
            ["Content:FirstStartFolder"] = "",
        };

        var run = await PprnetProcess.RunUntilAsync(test, config, line => line.Contains("Command line: pprnet --help", StringComparison.Ordinal), "serve");

        var output = run.Out;
        Assert.Contains("Compiling templates (first start after a template change or an upgrade only", output);
        Assert.True(output.IndexOf("Compiling templates", StringComparison.Ordinal) < output.IndexOf("Listening on", StringComparison.Ordinal));
        Assert.Matches(@"Subscribe page: http://127\.0\.0\.1:\d+/ {3}Archive: http://127\.0\.0\.1:\d+/archive", output);
        Assert.Contains($"Mail goes to the pickup directory {test.OutboxPath} (no Smtp:Host set): each message is an .eml file there.", output);
        Assert.Contains("Admin API: off. Set Admin:ApiKey (e.g. PPRNET_Admin__ApiKey=<a long random key>) to turn it on at http://127.0.0.1:", output);
        Assert.DoesNotContain("warn:", output);
        Assert.DoesNotContain("Press Ctrl+C to shut down", output);   // the host's own banner would repeat ours
    }

    [Fact]
    public async Task With_a_key_the_next_steps_say_the_admin_api_is_on()
    {
        await using var test = await TestApp.CreateAsync();
        var config = new Dictionary<string, string?> { ["Web:Urls"] = "http://127.0.0.1:0", ["Admin:ApiKey"] = "k-" + Guid.NewGuid().ToString("N") };

        var run = await PprnetProcess.RunUntilAsync(test, config, line => line.Contains("Command line: pprnet --help", StringComparison.Ordinal), "serve");

        Assert.Matches(@"Admin API: on at http://127\.0\.0\.1:\d+/admin/api", run.Out);
        Assert.DoesNotContain(config["Admin:ApiKey"]!, run.Out);
    }

    [Fact]
    public async Task A_due_edition_without_summaries_is_reported_once_at_information_level_when_the_schedule_fires_not_at_each_start()
    {
        await using var test = await TestApp.CreateAsync();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 15, 0, 0, TimeSpan.Zero));
        var logs = new LogCapture<ScheduledEditions>();
        var schedule = ActivatorUtilities.CreateInstance<ScheduledEditions>(test.App.Services, clock, logs);

        await schedule.RunDueAsync(atStartUp: true);
        await schedule.RunDueAsync(atStartUp: true);
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Information);

        await schedule.RunDueAsync(atStartUp: false);
        var said = Assert.Single(logs.Entries, e => e.Level >= LogLevel.Information);
        Assert.Equal(LogLevel.Information, said.Level);
        Assert.StartsWith("Not sending: the 2026-11 edition has no summaries", said.Message, StringComparison.Ordinal);
    }
}
