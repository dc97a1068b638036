using System.Globalization;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PprnetNewsletter.Scheduling;
using PprnetNewsletter.Storage.Postgres;
using PprnetNewsletter.Tests.Support;
using Quartz;

namespace PprnetNewsletter.Tests.Scheduling;

/// <summary>Several service instances on one PostgreSQL database share one clustered schedule.</summary>
public sealed partial class ClusteredScheduleTests
{
    sealed record Fire(DateTimeOffset Scheduled, string Instance);

    [Fact]
    public async Task Two_instances_on_one_database_fire_each_trigger_time_once_and_the_survivor_fires_on_alone()
    {
        // A trigger due every few seconds stands in for the monthly one: each of its times must run on one instance.
        var config = await PostgresServer.ConfigAsync(new Dictionary<string, string?>
        {
            ["Schedule:Cron"] = "0/3 * * * * ?",
            ["Schedule:TimeZone"] = "UTC",
            ["Delivery:RetryPollInterval"] = "01:00:00",
        });
        var first = await TestApp.CreateAsync(config, serve: true);
        await using var second = await TestApp.CreateAsync(config, serve: true);
        var firstLines = Listen(first);
        var secondLines = Listen(second);
        var firstStopped = false;
        try
        {
            // Both start at once: each stores the same jobs and triggers, and neither fails for it.
            await Task.WhenAll(first.App.StartAsync(), second.App.StartAsync());
            // Both take part in one cluster: each checks in under the shared scheduler name.
            await using (var connection = await first.Get<PgDb>().OpenAsync())
            {
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while (await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM qrtz_scheduler_state WHERE sched_name = @SchedulerName",
                    new { SchedulingSetup.SchedulerName }) < 2)
                {
                    Assert.True(DateTime.UtcNow < deadline, "two instances did not both check in to the cluster within 60 s");
                    await Task.Delay(250);
                }
            }

            var together = await WaitForFiresAsync(() => [.. Fires(firstLines), .. Fires(secondLines)], f => f.Count >= 4);
            await first.DisposeAsync();
            firstStopped = true;
            var stoppedAt = DateTimeOffset.UtcNow;
            var alone = await WaitForFiresAsync(() => Fires(secondLines), f => f.Count(x => x.Scheduled > stoppedAt) >= 2);

            var all = Fires(firstLines).Concat(Fires(secondLines)).ToList();
            Assert.All(all.GroupBy(f => f.Scheduled), time => Assert.Single(time));
            Assert.True(together.Select(f => f.Scheduled).Distinct().Count() >= 4);
            Assert.True(alone.Count(f => f.Scheduled > stoppedAt) >= 2);
        }
        finally
        {
            if (!firstStopped)
            {
                await first.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Instances_store_the_schedule_one_at_a_time()
    {
        // Two instances storing at once both found the monthly trigger missing, and the later one replaced it, at
        // times after the other had claimed the trigger's next time: that time fired on both.
        var config = await PostgresServer.ConfigAsync(new Dictionary<string, string?> { ["Delivery:RetryPollInterval"] = "01:00:00" });
        await using var other = await TestApp.CreateAsync(config, serve: true);
        await using var starting = await TestApp.CreateAsync(config, serve: true);
        await using var connection = await other.Get<PgDb>().OpenAsync();
        const string Stored = "SELECT count(*) FROM qrtz_triggers WHERE trigger_name = ANY(@Names)";
        var names = new { Names = new[] { MonthlyEditionJob.Name, DeliveryRetryJob.Name, BounceMailboxJob.Name } };
        // Advisory locks are per database, and other tests share the PostgreSQL server: only this database's count.
        const string Waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted " +
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

        var held = await other.Get<IScheduleLock>().HoldAsync(CancellationToken.None);
        var start = starting.App.StartAsync();
        // The starting instance comes to wait for the lock (after its other start-up work), having stored nothing.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await connection.ExecuteScalarAsync<int>(Waiting) == 0)
        {
            Assert.False(start.IsCompleted, "the instance started without waiting while another was storing the schedule");
            Assert.True(DateTime.UtcNow < deadline, "the starting instance did not come to wait for the schedule's lock within 60 s");
            await Task.Delay(100);
        }
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>(Stored, names));
        Assert.False(start.IsCompleted);

        await held.DisposeAsync();
        await start.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(3, await connection.ExecuteScalarAsync<int>(Stored, names));
        await starting.App.StopAsync();
    }

    [Fact]
    public async Task A_restart_keeps_the_stored_triggers_and_takes_a_changed_schedule_from_then_on()
    {
        var config = await PostgresServer.ConfigAsync(new Dictionary<string, string?>
        {
            ["Schedule:Cron"] = "0 0 9 1 * ?",
            ["Schedule:TimeZone"] = "America/Toronto",
            ["Delivery:RetryPollInterval"] = "01:00:00",
        });
        DateTimeOffset storedStart;
        await using (var before = await TestApp.CreateAsync(config, serve: true))
        {
            await before.App.StartAsync();
            storedStart = (await MonthlyAsync(before)).StartTimeUtc;
            await before.App.StopAsync();
        }

        // The same configuration: the stored monthly trigger is kept as it was, not stored again.
        await using (var same = await TestApp.CreateAsync(config, serve: true))
        {
            await same.App.StartAsync();
            Assert.Equal(storedStart, (await MonthlyAsync(same)).StartTimeUtc);
            await same.App.StopAsync();
        }

        // A changed cron, zone and interval take effect, from the restart on.
        config["Schedule:Cron"] = "0 30 10 15 * ?";
        config["Schedule:TimeZone"] = "UTC";
        config["Delivery:RetryPollInterval"] = "00:02:00";
        var restarted = DateTimeOffset.UtcNow;
        await using var after = await TestApp.CreateAsync(config, serve: true);
        await after.App.StartAsync();
        var cron = await MonthlyAsync(after);
        Assert.Equal(("0 30 10 15 * ?", "UTC"), (cron.CronExpressionString, cron.TimeZone.Id));
        Assert.True(cron.StartTimeUtc >= restarted.AddSeconds(-1));
        var retry = await TriggerAsync<ISimpleTrigger>(after, DeliveryRetryJob.Name);
        Assert.Equal(TimeSpan.FromMinutes(2), retry.RepeatInterval);
        await after.App.StopAsync();
    }

    static Task<ICronTrigger> MonthlyAsync(TestApp app) => TriggerAsync<ICronTrigger>(app, MonthlyEditionJob.Name);

    static async Task<T> TriggerAsync<T>(TestApp app, string name) where T : ITrigger =>
        (T)(await (await app.Get<ISchedulerFactory>().GetScheduler()).GetTrigger(new TriggerKey(name)))!;

    static LogLines Listen(TestApp app)
    {
        var lines = new LogLines(typeof(MonthlyEditionJob).FullName!);
        app.App.Services.GetRequiredService<ILoggerFactory>().AddProvider(lines);
        return lines;
    }

    static List<Fire> Fires(LogLines lines) =>
    [
        .. lines.Messages.Select(m => FireLine().Match(m)).Where(m => m.Success).Select(m => new Fire(
            DateTimeOffset.Parse(m.Groups["time"].Value, CultureInfo.InvariantCulture), m.Groups["instance"].Value)),
    ];

    static async Task<List<Fire>> WaitForFiresAsync(Func<List<Fire>> fires, Func<List<Fire>, bool> enough)
    {
        // Generous: the machine running the tests may be busy, and a late trigger still fires once.
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (!enough(fires()))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the trigger fired {fires().Count} time(s) in 120 s");
            await Task.Delay(250);
        }
        return fires();
    }

    [GeneratedRegex(@"The monthly trigger fired for (?<time>\S+) on scheduler instance (?<instance>\S+)")]
    private static partial Regex FireLine();
}
