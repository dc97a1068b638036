namespace PprnetNewsletter.Bounces;

/// <summary>A report as stored: what it was, whom it was about, and what the service did.</summary>
public sealed record BounceReportView(
    long Id, DateTimeOffset ReceivedAt, string Channel, string EventId, string Kind, long? SubscriberId, string? Email,
    string? Month, string? Recipient, string? Status, string? Diagnostic, string Outcome, long RawBytes, bool RawTruncated);

public sealed record BounceReportPage(IReadOnlyList<BounceReportView> Items, int Total, int Offset, int Limit);

/// <summary>A report to record (the raw message is capped by the store).</summary>
public sealed record NewBounceReport(
    string Channel, string EventId, ReportKind Kind, long? SubscriberId, long? EditionId, string? Recipient, string? Status,
    string? Diagnostic, byte[]? Raw);

/// <summary>
/// The bounce reports, and what the bounce feature reads and writes of the delivery ledger. One implementation per
/// database engine (<see cref="SqliteBounceStore"/>, <see cref="PgBounceStore"/>); both share <see cref="SqlBounceStore"/>.
/// </summary>
public interface IBounceStore
{
    /// <summary>The most of a report's raw message that is kept.</summary>
    const int MaxRawBytes = 256 * 1024;

    const int MaxPageSize = 1000;

    /// <summary>The stored name of a kind: 'permanent', 'transient', 'complaint', 'mailto', 'autoreply'.</summary>
    static string KindName(ReportKind kind) => kind switch
    {
        ReportKind.Unrecognised => throw new ArgumentOutOfRangeException(nameof(kind), "Unrecognised mail is never stored."),
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>True when this channel's event was recorded already.</summary>
    Task<bool> SeenAsync(string channel, string eventId, CancellationToken ct);

    /// <summary>
    /// Records a report (at most <see cref="MaxRawBytes"/> of its raw message); its id, or null when the channel's event
    /// was recorded before (a replay, which changes nothing).
    /// </summary>
    Task<long?> AddAsync(NewBounceReport report, CancellationToken ct);

    Task SetOutcomeAsync(long id, string outcome, CancellationToken ct);

    /// <summary>Forgets a report whose handling failed, so that reading it again handles it.</summary>
    Task RemoveAsync(long id, CancellationToken ct);

    /// <summary>The subscriber's transient bounces received since <paramref name="since"/>.</summary>
    Task<int> CountTransientAsync(long subscriberId, DateTimeOffset since, CancellationToken ct);

    /// <summary>The delivery (subscriber and edition) a digest's Message-ID belongs to, or null.</summary>
    Task<(long SubscriberId, long EditionId)?> FindDeliveryAsync(string? messageId, CancellationToken ct);

    /// <summary>Marks the subscriber's delivery of the edition failed, with the bounce in its history; false when there is none.</summary>
    Task<bool> FailDeliveryAsync(long subscriberId, long editionId, string? status, string diagnostic, CancellationToken ct);

    /// <summary>Reports newest first, of one kind or all, <paramref name="limit"/> (1–1000) from <paramref name="offset"/>.</summary>
    Task<BounceReportPage> ListAsync(string? kind, int offset, int limit, CancellationToken ct);

    Task<BounceReportView?> GetAsync(long id, CancellationToken ct);

    /// <summary>The raw message of a report as it was kept (null when the report has none, e.g. a webhook's JSON is not kept as mail).</summary>
    Task<byte[]?> RawAsync(long id, CancellationToken ct);
}
