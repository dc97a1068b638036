using PprnetNewsletter.Content;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// What the sending engine (EditionSender, SendRun) needs from the delivery ledger, and nothing more: the engine
/// defines it; <see cref="SqliteDeliveryStore"/> and <see cref="PgDeliveryStore"/> implement it (the edition's run
/// record is <see cref="IEditionRuns"/>). Timestamps come from the engine's clock; each method is one atomic step
/// (one transaction) of the store.
/// </summary>
public interface IDeliveryStore
{
    Task<EditionInfo?> FindEditionAsync(string month, CancellationToken ct = default);

    /// <summary>Draft → sending and the whole list enqueued, atomically; null when the edition was not a draft.</summary>
    Task<Enqueued?> StartAsync(long editionId, DateTimeOffset now, bool skipWithoutMatch, CancellationToken ct = default);

    Task<Enqueued> EnqueueConfirmedAfterAsync(long editionId, DateTimeOffset confirmedAfter, DateTimeOffset now, bool skipWithoutMatch,
        CancellationToken ct = default);

    Task<(int Requeued, int LeftFailed)> RequeueFailedAsync(long editionId, DateTimeOffset now, CancellationToken ct = default);

    Task<bool> RequeueOneAsync(long editionId, long subscriberId, DateTimeOffset now, CancellationToken ct = default);

    /// <summary>Eligible subscribers with no finished row (what a send would still do), streamed.</summary>
    IAsyncEnumerable<Recipient> StreamEligibleAsync(long editionId, CancellationToken ct = default);

    /// <summary>
    /// Leases up to <paramref name="limit"/> rows that need work (pending, another run's lease lapsed, deferred and due)
    /// to <paramref name="owner"/>; never the same row to two claims, whichever process or instance makes them.
    /// </summary>
    Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(long editionId, long owner, int limit, DateTimeOffset now, DateTimeOffset leaseUntil,
        CancellationToken ct = default);

    /// <summary>The writer a run commits its outcomes through, from one thread, for the whole run.</summary>
    IOutcomeWriter OpenOutcomeWriter();

    /// <summary>Claimed rows never attempted go back to pending.</summary>
    Task ReleaseAsync(IReadOnlyCollection<long> deliveryIds, DateTimeOffset now, CancellationToken ct = default);

    Task<bool> CompleteIfDoneAsync(long editionId, DateTimeOffset now, CancellationToken ct = default);

    /// <summary>Rows a claim would take now: pending, lease lapsed, deferred and due.</summary>
    Task<long> CountClaimableAsync(long editionId, DateTimeOffset now, CancellationToken ct = default);

    /// <summary>Rows that keep the edition from being complete now: pending, sending, deferred and due.</summary>
    Task<long> CountLeftAsync(long editionId, DateTimeOffset now, CancellationToken ct = default);

    /// <summary>Started editions with work due now that no live run holds.</summary>
    Task<IReadOnlyList<string>> EditionsWithDueWorkAsync(DateTimeOffset now, CancellationToken ct = default);

    Task<DateTimeOffset?> NextDeferredAttemptAsync(long editionId, CancellationToken ct = default);

    Task<LedgerCounts> CountsAsync(long editionId, int topReasons, CancellationToken ct = default);
}

/// <summary>Commits groups of outcomes, each group atomically: every row's new state and its history entries.</summary>
public interface IOutcomeWriter : IDisposable
{
    void Record(IReadOnlyCollection<DeliveryOutcome> outcomes);
}
