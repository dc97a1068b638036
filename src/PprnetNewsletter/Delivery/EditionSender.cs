using Microsoft.Extensions.Options;
using PprnetNewsletter.Content;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Delivery;

public enum ResendKind
{
    /// <summary>One subscriber ("I never got it").</summary>
    Email,

    /// <summary>Every row that failed, whose subscriber is still confirmed.</summary>
    Failed,

    /// <summary>Subscribers confirmed after the edition's send started, who have no row yet.</summary>
    New,
}

public sealed record ResendRequest(ResendKind Kind, string? Email = null);

public sealed record ResendResult(int Queued, int LeftFailed, SendResult Send);

/// <summary>An edition's delivery state: what `digest status` prints and the admin API returns.</summary>
public sealed record EditionStatusReport(
    string Month,
    string Status,
    long SummaryCount,
    DateTimeOffset? SendStartedAt,
    DateTimeOffset? SentAt,
    IReadOnlyDictionary<string, long> Counts,
    IReadOnlyList<FailureReason> TopReasons,
    DateTimeOffset? NextRetryAt,
    string? Note);

/// <summary>
/// The sending engine's operations: send an edition (resuming where any earlier run stopped), the three resends, the
/// periodic retry's resume, a dry run and status. Sends are run by the <see cref="DeliveryWorker"/> alone, whoever
/// started them (the schedule, the retry job, the admin API, the dashboard, the command line).
/// </summary>
public sealed class EditionSender
{
    internal sealed record Dependencies(
        IDeliveryStore Ledger,
        IEditionRuns Runs,
        IMailTransport Transport,
        DeliveryResilience Resilience,
        ISubscriberStore Subscribers,
        TimeProvider Clock,
        DeliveryOptions Options,
        SmtpOptions Smtp,
        ILogger Logger);

    readonly Dependencies _deps;
    readonly IEditionMessageFactory _factory;

    public EditionSender(IDeliveryStore ledger, IEditionRuns runs, IEditionMessageFactory factory, IMailTransport transport, DeliveryResilience resilience,
        ISubscriberStore subscribers, TimeProvider clock, IOptions<DeliveryOptions> options, IOptions<SmtpOptions> smtp, ILogger<EditionSender> logger)
    {
        _factory = factory;
        _deps = new Dependencies(ledger, runs, transport, resilience, subscribers, clock, options.Value, smtp.Value, logger);
    }

    /// <summary>
    /// Sends the edition of <paramref name="month"/> (YYYY-MM): starts it if it is a draft (one process wins; the
    /// list is enqueued at that moment), then works through every row that needs it. Run again, it resumes; once
    /// everything is done it sends nothing.
    /// </summary>
    internal async Task<SendResult> SendAsync(string month, IProgress<SendProgress>? progress = null, CancellationToken ct = default)
    {
        var edition = await RequireSendableAsync(month, ct);
        // Prepared before the edition starts: a template that cannot render it stops here, with nothing changed.
        var messages = await PrepareAsync(edition, ct);
        Enqueued? enqueued = null;
        if (edition.Status == EditionStatus.Draft)
        {
            enqueued = await _deps.Ledger.StartAsync(edition.Id, _deps.Clock.GetUtcNow(), messages.SkipsWithoutMatchingTopics, ct);
            if (enqueued is not null)
            {
                _deps.Logger.LogInformation("Started the {Month} edition: {Count} recipients queued, {Skipped} of them skipped (no matching topic)",
                    month, enqueued.Rows, enqueued.Skipped);
            }
        }
        return await RunAsync(edition, messages, enqueued?.Skipped ?? 0, progress, ct);
    }

    /// <summary>
    /// What <see cref="SendAsync"/> would do, without sending or changing anything: composes the message of every
    /// eligible subscriber not yet done. Sent counts the messages that would go out.
    /// </summary>
    public async Task<SendResult> DryRunAsync(string month, IProgress<SendProgress>? progress = null, CancellationToken ct = default)
    {
        var edition = await RequireSendableAsync(month, ct);
        var messages = await PrepareAsync(edition, ct);
        var start = _deps.Clock.GetTimestamp();
        long wouldSend = 0, skipped = 0;
        await foreach (var recipient in _deps.Ledger.StreamEligibleAsync(edition.Id, ct))
        {
            using var message = messages.Compose(recipient, 0);
            if (message is null)
            {
                skipped++;
            }
            else
            {
                wouldSend++;
            }
            if ((wouldSend + skipped) % 1000 == 0)
            {
                var seconds = _deps.Clock.GetElapsedTime(start).TotalSeconds;
                progress?.Report(new SendProgress(month, wouldSend, 0, 0, skipped, 0, (wouldSend + skipped) / Math.Max(seconds, 1e-3), null, false));
            }
        }
        return new SendResult(month, wouldSend, 0, 0, skipped, 0, _deps.Clock.GetElapsedTime(start), false, null, null);
    }

    /// <summary>Queues a resend (a new round for each row, history kept) and runs it.</summary>
    internal async Task<ResendResult> ResendAsync(string month, ResendRequest request, IProgress<SendProgress>? progress = null, CancellationToken ct = default)
    {
        var edition = await RequireEditionAsync(month, ct);
        if (edition.Status == EditionStatus.Draft)
        {
            throw new UsageException($"The {month} edition has not been sent yet, so there is nothing to resend; use 'digest send {month}'.");
        }
        var messages = await PrepareAsync(edition, ct);
        var now = _deps.Clock.GetUtcNow();
        int queued, leftFailed = 0, skipped = 0;
        switch (request.Kind)
        {
            case ResendKind.Email:
                var subscriber = await _deps.Subscribers.FindByEmailAsync(request.Email ?? "", ct)
                    ?? throw new UsageException($"No subscriber has the address {request.Email}; check the spelling ('subscribers list').");
                if (subscriber.Status != SubscriberStatus.Confirmed)
                {
                    throw new UsageException($"{subscriber.Email} is {subscriber.Status}; only confirmed subscribers are sent to.");
                }
                queued = await _deps.Ledger.RequeueOneAsync(edition.Id, subscriber.Id, now, ct) ? 1 : 0;
                break;
            case ResendKind.Failed:
                (queued, leftFailed) = await _deps.Ledger.RequeueFailedAsync(edition.Id, now, ct);
                break;
            default:
                var enqueued = await _deps.Ledger.EnqueueConfirmedAfterAsync(edition.Id, edition.SendStartedAt ?? now, now,
                    messages.SkipsWithoutMatchingTopics, ct);
                (queued, skipped) = (enqueued.Rows, enqueued.Skipped);
                break;
        }
        _deps.Logger.LogInformation("Resend of {Month} ({Kind}): {Count} queued", month, request.Kind, queued);
        return new ResendResult(queued, leftFailed, await RunAsync(edition, messages, skipped, progress, ct));
    }

    /// <summary>
    /// The retry job's work on one started edition: runs the engine over its rows due now (deferred and due, or left by
    /// a run that died). Null, without waiting, when another run holds the edition: that run does the work.
    /// </summary>
    internal async Task<SendResult?> ResumeAsync(string month, CancellationToken ct)
    {
        var edition = await RequireEditionAsync(month, ct);
        return await RunAsync(edition, await PrepareAsync(edition, ct), 0, null, ct, waitIfBusy: false);
    }

    public async Task<EditionStatusReport> StatusAsync(string month, CancellationToken ct = default)
    {
        var edition = await RequireEditionAsync(month, ct);
        var counts = await _deps.Ledger.CountsAsync(edition.Id, topReasons: 5, ct);
        var nextRetry = await _deps.Ledger.NextDeferredAttemptAsync(edition.Id, ct);
        var holder = await _deps.Runs.HolderAsync(edition.Id, ct);
        var now = _deps.Clock.GetUtcNow();
        var note = (edition.SummaryCount, edition.Status) switch
        {
            (0, _) => "no summaries: this edition is not sent (the schedule skips it); import its summaries first",
            (_, EditionStatus.Draft) => "not sent yet",
            (_, EditionStatus.Sending) when counts.ByState[DeliveryState.Deferred] > 0 && nextRetry is { } at =>
                $"deferred rows are retried automatically; next retry at {at:u}",
            (_, EditionStatus.Sending) when holder is not null && holder.IsLive(now) => $"being sent by {holder.Describe()}",
            (_, EditionStatus.Sending) => "interrupted: run 'digest send' again (it takes over at once) or let the service resume it",
            _ => null,
        };
        return new EditionStatusReport(edition.Month, edition.Status, edition.SummaryCount, edition.SendStartedAt, edition.SentAt,
            counts.ByState, counts.TopReasons, nextRetry, note);
    }

    async Task<SendResult> RunAsync(EditionInfo edition, IEditionMessages messages, long skippedAtEnqueue, IProgress<SendProgress>? progress,
        CancellationToken ct) =>
        (await RunAsync(edition, messages, skippedAtEnqueue, progress, ct, waitIfBusy: true))!;

    async Task<SendResult?> RunAsync(EditionInfo edition, IEditionMessages messages, long skippedAtEnqueue, IProgress<SendProgress>? progress,
        CancellationToken ct, bool waitIfBusy)
    {
        if (await new SendRun(_deps, edition, messages, skippedAtEnqueue, progress, waitIfBusy, ct).ExecuteAsync() is not { } result)
        {
            return null;
        }
        _deps.Logger.LogInformation(
            "{Month}: {Sent} sent, {Failed} failed, {Deferred} deferred, {Skipped} skipped in {Elapsed}{Stopped}",
            edition.Month, result.Sent, result.Failed, result.Deferred, result.Skipped, result.Elapsed,
            result.StoppedBecause is null ? "" : "; " + result.StoppedBecause);
        return result;
    }

    async Task<IEditionMessages> PrepareAsync(EditionInfo edition, CancellationToken ct) =>
        await _factory.PrepareAsync(edition.Month, ct)
        ?? throw new InvalidOperationException($"The {edition.Month} edition disappeared while it was being prepared.");

    async Task<EditionInfo> RequireSendableAsync(string month, CancellationToken ct)
    {
        var edition = await RequireEditionAsync(month, ct);
        return edition.SummaryCount > 0 ? edition : throw new UsageException(
            $"The {month} edition has no summaries, so it is not sent. Import them first (pprnet import content/{month}).");
    }

    async Task<EditionInfo> RequireEditionAsync(string month, CancellationToken ct)
    {
        if (!MonthNames.TryParse(month, out _))
        {
            throw new UsageException($"\"{month}\" is not a month; write it as YYYY-MM, e.g. 2023-03.");
        }
        return await _deps.Ledger.FindEditionAsync(month, ct)
            ?? throw new UsageException($"There is no {month} edition; import its summaries first (pprnet import content/{month}).");
    }
}
