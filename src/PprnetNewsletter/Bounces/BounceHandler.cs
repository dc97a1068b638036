using System.Globalization;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Bounces;

/// <summary>
/// One report, from the mailbox or a provider's webhook, ready to act on: what it is and every clue to whom it is
/// about, best first (the VERP addresses it came back to, then the recipient it names, then the digest's Message-ID).
/// </summary>
public sealed record IncomingReport(string Channel, string EventId, Classification Classification, byte[]? Raw);

/// <summary>What handling a report did.</summary>
public enum HandlingResult
{
    /// <summary>Recorded, and acted on as its kind says.</summary>
    Handled,

    /// <summary>This channel's event was handled before: nothing done again.</summary>
    Replay,
}

/// <summary>
/// Acts on bounces, complaints, mailto unsubscribes and automatic replies, whichever way they arrive: a permanent
/// bounce marks the subscriber bounced (consent source 'bounce') and the delivery failed with the diagnostic;
/// <c>Bounces:SoftLimit</c> transient bounces within <c>Bounces:SoftWindow</c> do the same; a complaint unsubscribes and
/// suppresses (source 'complaint'); a mailto unsubscribes (source 'mailto'); an automatic reply changes nothing. Every
/// report is kept with its outcome, once per channel and event id: a report read again has no second effect.
/// </summary>
public sealed class BounceHandler(
    IBounceStore store, ISubscriberStore subscribers, VerpAddresses verp, IOptions<BouncesOptions> options, TimeProvider time,
    ILogger<BounceHandler> logger)
{
    static readonly ConsentContext Bounce = new(ConsentSource.Bounce);
    static readonly ConsentContext Complaint = new(ConsentSource.Complaint);
    static readonly ConsentContext Mailto = new(ConsentSource.Mailto);

    readonly BouncesOptions _options = options.Value;

    public async Task<HandlingResult> HandleAsync(IncomingReport report, CancellationToken ct)
    {
        var classification = report.Classification;
        if (await store.SeenAsync(report.Channel, report.EventId, ct))
        {
            return HandlingResult.Replay;
        }
        var (subscriberId, editionId) = await AttributeAsync(classification, ct);
        var id = await store.AddAsync(new NewBounceReport(report.Channel, report.EventId, classification.Kind, subscriberId, editionId,
            classification.Recipient, classification.Status, classification.Diagnostic, report.Raw), ct);
        if (id is not { } reportId)
        {
            return HandlingResult.Replay;   // recorded by a concurrent reader between the check and the insert
        }
        try
        {
            var outcome = subscriberId is { } subscriber
                ? await ActAsync(classification, subscriber, editionId, ct)
                : classification.Kind == ReportKind.AutoReply ? "ignored (automatic reply)" : "no subscriber matched: nothing changed";
            await store.SetOutcomeAsync(reportId, outcome, ct);
            logger.LogInformation("{Channel} {Kind} report about subscriber {Subscriber}: {Outcome}",
                report.Channel, classification.Kind, subscriberId?.ToString(CultureInfo.InvariantCulture) ?? "(none)", outcome);
            return HandlingResult.Handled;
        }
        catch
        {
            // Unrecorded, the report is handled when it is read again (it stays in the mailbox; the provider retries).
            await store.RemoveAsync(reportId, CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// The subscriber (and edition, when known) a report is about: VERP first, then recipient, then Message-ID. A
    /// subscriber erased since the mail went out is nobody: the report is kept without them.
    /// </summary>
    async Task<(long? SubscriberId, long? EditionId)> AttributeAsync(Classification classification, CancellationToken ct)
    {
        var (subscriberId, editionId) = await CandidateAsync(classification, ct);
        return subscriberId is { } id && await subscribers.GetAsync(id, ct) is null ? (null, null) : (subscriberId, editionId);
    }

    async Task<(long? SubscriberId, long? EditionId)> CandidateAsync(Classification classification, CancellationToken ct)
    {
        if (classification.MailtoSubscriberId is { } signed)
        {
            return (signed, null);
        }
        foreach (var address in classification.ReturnPaths ?? [])
        {
            if (verp.TryRead(address, out var subscriberId, out var editionId))
            {
                return (subscriberId, editionId);
            }
        }
        var delivery = await store.FindDeliveryAsync(classification.OriginalMessageId, ct);
        if (classification.Recipient is { } recipient && await subscribers.FindByEmailAsync(recipient, ct) is { } byAddress)
        {
            return (byAddress.Id, delivery is { } d && d.SubscriberId == byAddress.Id ? d.EditionId : null);
        }
        return delivery is { } found ? (found.SubscriberId, found.EditionId) : (null, null);
    }

    async Task<string> ActAsync(Classification classification, long subscriberId, long? editionId, CancellationToken ct)
    {
        var diagnostic = string.Join(" ", new[] { classification.Status, classification.Diagnostic }.Where(s => !string.IsNullOrEmpty(s)));
        switch (classification.Kind)
        {
            case ReportKind.Permanent:
                return await BounceAsync(subscriberId, editionId, classification.Status, $"permanent bounce: {diagnostic}", ct);

            case ReportKind.Transient:
                var since = time.GetUtcNow() - _options.SoftWindow;
                var count = await store.CountTransientAsync(subscriberId, since, ct);
                var window = $"{_options.SoftWindow.TotalDays.ToString("0.##", CultureInfo.InvariantCulture)} days";
                return count >= _options.SoftLimit
                    ? await BounceAsync(subscriberId, editionId, classification.Status,
                        $"{count} transient bounces within {window}; last: {diagnostic}", ct)
                    : $"transient bounce {count} of {_options.SoftLimit} within {window}";

            case ReportKind.Complaint:
                return await subscribers.UnsubscribeAfterComplaintAsync(subscriberId, Complaint, classification.Diagnostic, ct) is null
                    ? "no such subscriber any more"
                    : "unsubscribed and suppressed (spam complaint)";

            case ReportKind.Mailto:
                return await subscribers.UnsubscribeAsync(subscriberId, Mailto, ct) is null
                    ? "no such subscriber any more"
                    : "unsubscribed (mailto)";

            default:
                return "ignored (automatic reply)";
        }
    }

    async Task<string> BounceAsync(long subscriberId, long? editionId, string? status, string detail, CancellationToken ct)
    {
        var before = await subscribers.GetAsync(subscriberId, ct);
        if (before is null)
        {
            return "no such subscriber any more";
        }
        var after = await subscribers.MarkBouncedAsync(subscriberId, Bounce, detail, ct);
        var ledger = editionId is { } edition && await store.FailDeliveryAsync(subscriberId, edition, status, detail, ct)
            ? "; delivery marked failed"
            : "";
        return after?.Status == SubscriberStatus.Bounced && before.Status != SubscriberStatus.Bounced
            ? $"subscriber bounced{ledger}"
            : $"subscriber left {after?.Status ?? before.Status}{ledger}";
    }
}
