using Microsoft.Extensions.Options;
using Quartz;

namespace PprnetNewsletter.Scheduling;

/// <summary>
/// With the clustered store (PostgreSQL), a trigger another instance stored is kept as it is, so that two instances
/// starting together never fire one time twice. This brings a kept trigger up to date when the configuration has changed
/// since it was stored (Schedule:Cron, Schedule:TimeZone, Delivery:RetryPollInterval, Bounces:PollInterval): the new
/// schedule takes over from now, and no time already past fires again.
/// </summary>
sealed class StoredSchedules(ISchedulerFactory schedulers, IServiceProvider services, IOptions<ScheduleOptions> schedule,
    ILogger<StoredSchedules> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var cron = EditionSchedule.CronOf(schedule.Value);
        if (await scheduler.GetTrigger(new TriggerKey(MonthlyEditionJob.Name), cancellationToken) is ICronTrigger monthly
            && (monthly.CronExpressionString != cron.CronExpressionString || monthly.TimeZone.Id != cron.TimeZone.Id))
        {
            await ReplaceAsync(scheduler, monthly, CronScheduleBuilder.Create(cron), $"{cron.CronExpressionString} ({cron.TimeZone.Id})", cancellationToken);
        }
        foreach (var (name, interval) in new[]
        {
            (DeliveryRetryJob.Name, DeliveryRetryJob.Interval(services)),
            (BounceMailboxJob.Name, BounceMailboxJob.Interval(services)),
        })
        {
            if (await scheduler.GetTrigger(new TriggerKey(name), cancellationToken) is ISimpleTrigger stored && stored.RepeatInterval != interval)
            {
                await ReplaceAsync(scheduler, stored, SimpleScheduleBuilder.Create().WithInterval(interval).RepeatForever(), $"every {interval}",
                    cancellationToken);
            }
        }
    }

    async Task ReplaceAsync(IScheduler scheduler, ITrigger stored, IScheduleBuilder with, string what, CancellationToken ct)
    {
        var replacement = TriggerBuilder.Create().WithIdentity(stored.Key).ForJob(stored.JobKey).WithSchedule(with).StartNow().Build();
        await scheduler.RescheduleJob(stored.Key, replacement, ct);
        logger.LogInformation("The stored trigger {Trigger} now runs {Schedule}, as configured", stored.Key.Name, what);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
