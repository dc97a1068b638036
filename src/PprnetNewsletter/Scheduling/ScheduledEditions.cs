using Microsoft.Extensions.Options;
using PprnetNewsletter.Bounces;
using PprnetNewsletter.Delivery;
using Quartz;

namespace PprnetNewsletter.Scheduling;

/// <summary>Runs the schedule's decision: the monthly trigger and the catch-up at start-up both come here.</summary>
public sealed class ScheduledEditions(
    IDeliveryStore ledger, DeliveryWorker worker, TimeProvider clock, IOptions<ScheduleOptions> options, ILogger<ScheduledEditions> logger)
{
    public CronExpression Cron { get; } = EditionSchedule.CronOf(options.Value);

    /// <summary>
    /// Sends the edition that is due, if it has summaries and has not been started, through the delivery worker, and
    /// waits for the send (a send of the edition already running in this process is joined). Two processes may both
    /// decide to; the edition's compare-and-set start lets one enqueue it, and its run record lets one run send it.
    /// A due edition without summaries is reported once, when the schedule fires; the catch-up run at start-up
    /// (<paramref name="atStartUp"/>) keeps quiet about it, or every restart in the month would repeat it.
    /// </summary>
    public async Task<ScheduleDecision> RunDueAsync(bool atStartUp = false, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var editions = new List<EditionState>();
        if (EditionSchedule.DueMonth(now, Cron) is { } month && await ledger.FindEditionAsync(month, ct) is { } edition)
        {
            editions.Add(new EditionState(edition.Month, edition.Status, edition.SummaryCount));
        }
        var decision = EditionSchedule.Decide(now, Cron, editions);
        if (decision.SendMonth is { } due)
        {
            logger.LogInformation("Sending the {Month} edition: {Reason}", due, decision.Reason);
            await worker.Submit(DeliveryRequest.Send(due, "schedule")).Completion.WaitAsync(ct);
        }
        else if (decision.NeedsAttention && !atStartUp)
        {
            logger.LogInformation("Not sending: {Reason}", decision.Reason);
        }
        else
        {
            logger.LogDebug("Nothing to send: {Reason}", decision.Reason);
        }
        return decision;
    }
}

/// <summary>The monthly trigger (and the one-off catch-up at start-up).</summary>
[DisallowConcurrentExecution]
public sealed class MonthlyEditionJob(ScheduledEditions schedule, ILogger<MonthlyEditionJob> logger) : IJob
{
    /// <summary>The job's name, and its monthly trigger's.</summary>
    public const string Name = "monthly-edition";

    /// <summary>The trigger of the one-off run at start-up, beside the monthly one.</summary>
    public const string CatchUpTrigger = "monthly-edition-catch-up";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var atStartUp = context.Trigger.Key.Name == CatchUpTrigger;
        if (!atStartUp)
        {
            // With several instances on one PostgreSQL database, this line says which one the trigger fired on.
            logger.LogInformation("The monthly trigger fired for {Scheduled:O} on scheduler instance {Instance}",
                context.ScheduledFireTimeUtc, context.Scheduler.SchedulerInstanceId);
        }
        await schedule.RunDueAsync(atStartUp, cancellationToken);
    }
}

/// <summary>
/// Every Delivery:RetryPollInterval: deferred rows that are due, and sends left unfinished by a crash, resumed by the
/// delivery worker (which skips an edition it is already working on).
/// </summary>
[DisallowConcurrentExecution]
public sealed class DeliveryRetryJob(DeliveryWorker worker) : IJob
{
    /// <summary>The job's name, and its trigger's.</summary>
    public const string Name = "delivery-retry";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await worker.ResumeDueAsync(cancellationToken);
}

/// <summary>Every Bounces:PollInterval, one pass over the bounce mailbox (when one is configured).</summary>
[DisallowConcurrentExecution]
public sealed class BounceMailboxJob(BounceMailbox mailbox, ILogger<BounceMailboxJob> logger) : IJob
{
    /// <summary>The job's name, and its trigger's.</summary>
    public const string Name = "bounce-mailbox";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        if (!mailbox.Enabled)
        {
            return;
        }
        try
        {
            var counts = await mailbox.PollAsync(cancellationToken);
            if (counts.Total > 0)
            {
                logger.LogInformation("Bounce mailbox: {Counts}, {Errors} error(s)",
                    string.Join(", ", counts.ByKind.Where(c => c.Value > 0).Select(c => $"{c.Value} {c.Key}")), counts.Errors);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The mailbox may be down for a while: the next pass tries again, and the log says why this one failed.
            logger.LogError(e, "Reading the bounce mailbox failed");
        }
    }
}
