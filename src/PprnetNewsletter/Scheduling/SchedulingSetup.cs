using Npgsql;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;
using Quartz;

namespace PprnetNewsletter.Scheduling;

public static class SchedulingSetup
{
    /// <summary>
    /// The scheduler's name, shared by every instance of the service: instances on one PostgreSQL database form one
    /// cluster because their rows in the qrtz_ tables carry the same name.
    /// </summary>
    public const string SchedulerName = "pprnet";

    /// <summary>The prefix of the tables that PostgreSQL migration 0040 creates for Quartz.</summary>
    public const string TablePrefix = "qrtz_";

    /// <summary>
    /// Quartz: the monthly edition, the periodic retry of deferred deliveries and the bounce mailbox poll. The service's
    /// alone: a one-off verb never starts the scheduler, and leaving Quartz out of its host keeps a send's process
    /// smaller (docs/benchmarks.md).
    /// </summary>
    public static IHostApplicationBuilder AddScheduling(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ScheduleOptions>(ScheduleOptions.Section);
        builder.Services.AddSingleton<ScheduledEditions>();
        // An empty connection string is left to StorageOptions' validation, whose message says what to set.
        var postgres = builder.Provider() == StorageProvider.Postgres
            && builder.Configuration.GetSection(StorageOptions.Section).Get<StorageOptions>()?.ConnectionString is { } c
            && !string.IsNullOrWhiteSpace(c) ? c : null;
        builder.Services.AddQuartz(q =>
        {
            q.ConfigureScheduler(s => s.InstanceName = SchedulerName);
            if (postgres is not null)
            {
                // Several instances share one PostgreSQL database: the clustered job store keeps the triggers there and
                // each firing is claimed under a row lock, so the monthly trigger fires on exactly one instance, and
                // on a surviving one when another has stopped. With SQLite (one machine) the store stays in memory.
                q.UsePersistentStore(store =>
                {
                    store.UsePostgres(NpgsqlFactory.Instance, postgres);
                    store.UseSystemTextJsonSerializer();
                    // An instance is taken for dead once its check-in is this late, and its claimed firings are handed to
                    // another. Quartz's default (7.5 s) is shorter than the stalls a busy two-core machine gives a live
                    // instance, and a live instance taken for dead fires its claimed trigger beside the one that took it
                    // over. A monthly job loses nothing by a minute's slower take-over.
                    store.UseClustering(c =>
                    {
                        c.CheckinInterval = TimeSpan.FromSeconds(10);
                        c.CheckinMisfireThreshold = TimeSpan.FromSeconds(60);
                    });
                    store.ConfigureStore(o => o.TablePrefix = TablePrefix);
                });
            }
        });
        builder.AddStore<IScheduleLock, InMemoryScheduleLock, PgScheduleLock>();
        // In this order: the schedule is stored before the scheduler starts to run it.
        builder.Services.AddHostedService<StoredSchedules>();
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        return builder;
    }
}
