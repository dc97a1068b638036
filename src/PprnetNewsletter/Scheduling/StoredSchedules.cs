using Microsoft.Extensions.Options;
using PprnetNewsletter.Bounces;
using PprnetNewsletter.Delivery;
using Quartz;

namespace PprnetNewsletter.Scheduling;

/// <summary>
/// Writes the schedule into Quartz's store as the service starts, before the scheduler runs: the monthly edition, its
/// one-off catch-up, the retry of deferred deliveries and the bounce mailbox poll.
/// <para>
/// With PostgreSQL the store is shared by every instance, and what another instance stored is kept as it is: a trigger
/// replaced while another instance had claimed its next time would fire that time twice. Instances therefore store
/// one at a time (<see cref="IScheduleLock"/>); two storing at once would both find a trigger missing, and the later
/// one would replace it. A stored trigger is replaced only when the configuration changed since (Schedule:Cron,
/// Schedule:TimeZone, Delivery:RetryPollInterval, Bounces:PollInterval), and then runs the new schedule from now on.
/// </para>
/// </summary>
sealed class StoredSchedules(ISchedulerFactory schedulers, IScheduleLock storeLock, IOptions<ScheduleOptions> schedule,
    IOptions<DeliveryOptions> delivery, IOptions<BouncesOptions> bounces, ILogger<StoredSchedules> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        await using var held = await storeLock.HoldAsync(cancellationToken);

        var cron = EditionSchedule.CronOf(schedule.Value);
        await KeepAsync<MonthlyEditionJob>(scheduler, MonthlyEditionJob.Name, CronScheduleBuilder.Create(cron),
            stored => stored is ICronTrigger c && c.CronExpressionString == cron.CronExpressionString && c.TimeZone.Id == cron.TimeZone.Id,
            $"{cron.CronExpressionString} ({cron.TimeZone.Id})", cancellationToken);
        // A trigger time that passed while the service was down is not counted on (the in-memory store forgets it; a
        // trigger kept in PostgreSQL fires it late or not, by its misfire rule): this one-off run sends that edition
        // instead, and the decision makes it once, never twice. One still waiting (another instance's) is enough.
        var catchUp = new TriggerKey(MonthlyEditionJob.CatchUpTrigger);
        if (!await scheduler.Exists(catchUp, cancellationToken))
        {
            await scheduler.ScheduleJob(TriggerBuilder.Create().WithIdentity(catchUp).ForJob(MonthlyEditionJob.Name).StartNow().Build(),
                cancellationToken: cancellationToken);
        }

        await KeepRepeatingAsync<DeliveryRetryJob>(scheduler, DeliveryRetryJob.Name, delivery.Value.RetryPollInterval, cancellationToken);
        await KeepRepeatingAsync<BounceMailboxJob>(scheduler, BounceMailboxJob.Name, bounces.Value.PollInterval, cancellationToken);
    }

    /// <summary>A job run at once, then every <paramref name="interval"/>.</summary>
    Task KeepRepeatingAsync<TJob>(IScheduler scheduler, string name, TimeSpan interval, CancellationToken ct) where TJob : IJob =>
        KeepAsync<TJob>(scheduler, name, SimpleScheduleBuilder.Create().WithInterval(interval).RepeatForever(),
            stored => stored is ISimpleTrigger s && s.RepeatInterval == interval, $"every {interval}", ct);

    /// <summary>
    /// Stores the job <paramref name="name"/> and its trigger of the same name on <paramref name="schedule"/>, unless
    /// they are stored already: a stored trigger is kept while <paramref name="isCurrent"/> holds, else replaced.
    /// </summary>
    async Task KeepAsync<TJob>(IScheduler scheduler, string name, IScheduleBuilder schedule, Func<ITrigger, bool> isCurrent,
        string described, CancellationToken ct) where TJob : IJob
    {
        var job = new JobKey(name);
        if (!await scheduler.Exists(job, ct))
        {
            // Durable: the job stays stored while its trigger is replaced.
            await scheduler.AddJob(JobBuilder.Create<TJob>().WithIdentity(job).StoreDurably().Build(), cancellationToken: ct);
        }
        var key = new TriggerKey(name);
        var trigger = TriggerBuilder.Create().WithIdentity(key).ForJob(job).WithSchedule(schedule).StartNow().Build();
        switch (await scheduler.GetTrigger(key, ct))
        {
            case null:
                await scheduler.ScheduleJob(trigger, cancellationToken: ct);
                break;
            case { } stored when !isCurrent(stored):
                await scheduler.RescheduleJob(key, trigger, ct);
                logger.LogInformation("The stored trigger {Trigger} now runs {Schedule}, as configured", name, described);
                break;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
