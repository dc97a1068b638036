using System.Data.Common;
using Dapper;
using PprnetNewsletter.Content;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// The ledger's statements that read and write the same in SQLite and PostgreSQL (counts, completion, resends),
/// shared by <see cref="SqliteDeliveryStore"/> and <see cref="PgDeliveryStore"/>. What differs between the engines
/// (the enqueue, claims, the outcome writer) is each store's own.
/// </summary>
public abstract class DeliveryStoreBase
{
    /// <summary>A connection of the store's engine, open.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    // Compare-and-set: of two processes starting the same edition, exactly one sees a changed row.
    protected const string StartEdition = """
        UPDATE editions SET status = 'sending', send_started_at = @now WHERE id = @editionId AND status = 'draft'
        """;

    const string EditionByMonth = """
        SELECT e.id, e.month, e.status, (SELECT count(*) FROM summaries s WHERE s.edition_id = e.id) AS SummaryCount,
               e.send_started_at AS SendStartedAt, e.sent_at AS SentAt
        FROM editions e WHERE e.month = @month
        """;

    const string CompleteEdition = """
        UPDATE editions SET status = 'sent', sent_at = @now
        WHERE id = @editionId AND status = 'sending'
          AND NOT EXISTS (SELECT 1 FROM deliveries WHERE edition_id = @editionId AND state IN ('pending', 'sending', 'deferred'))
        """;

    const string CountClaimable = """
        SELECT (SELECT count(*) FROM deliveries WHERE edition_id = @editionId AND state = 'pending')
             + (SELECT count(*) FROM deliveries WHERE edition_id = @editionId AND state = 'sending' AND lease_until < @now)
             + (SELECT count(*) FROM deliveries WHERE state = 'deferred' AND next_attempt_at <= @now AND edition_id = @editionId)
        """;

    const string EditionsWithDueWork = """
        SELECT e.month FROM editions e
        WHERE e.status IN ('sending', 'sent')
          AND NOT EXISTS (SELECT 1 FROM edition_runs r WHERE r.edition_id = e.id AND r.lease_until >= @now)
          AND (EXISTS (SELECT 1 FROM deliveries d WHERE d.edition_id = e.id AND d.state = 'pending')
               OR EXISTS (SELECT 1 FROM deliveries d WHERE d.edition_id = e.id AND d.state = 'sending' AND d.lease_until < @now)
               OR EXISTS (SELECT 1 FROM deliveries d WHERE d.state = 'deferred' AND d.next_attempt_at <= @now AND d.edition_id = e.id))
        ORDER BY e.month
        """;

    // What keeps an edition from being complete now: rows pending, in 'sending' (another run's), or deferred and due.
    const string CountLeft = """
        SELECT (SELECT count(*) FROM deliveries WHERE edition_id = @editionId AND state IN ('pending', 'sending'))
             + (SELECT count(*) FROM deliveries WHERE state = 'deferred' AND next_attempt_at <= @now AND edition_id = @editionId)
        """;

    const string NextDeferredAttempt = """
        SELECT min(next_attempt_at) FROM deliveries WHERE state = 'deferred' AND edition_id = @editionId
        """;

    const string CountsByState = "SELECT state, count(*) FROM deliveries WHERE edition_id = @editionId GROUP BY state";

    const string TopFailureReasons = """
        SELECT state AS State,
               CASE WHEN smtp_code IS NOT NULL THEN smtp_code || coalesce(' ' || enhanced_status, '')
                    ELSE coalesce(last_error, 'unknown') END AS Reason,
               count(*) AS Count, min(coalesce(smtp_reply, last_error)) AS Example
        FROM deliveries WHERE edition_id = @editionId AND state IN ('failed', 'deferred')
        GROUP BY 1, 2 ORDER BY 3 DESC, 2 LIMIT @limit
        """;

    // A resend is a new round for the row: its history stays in delivery_attempts, resend_count changes the Message-ID.
    const string RequeueFailed = """
        UPDATE deliveries
        SET state = 'pending', resend_count = resend_count + 1, lease_until = NULL, next_attempt_at = NULL,
            first_attempt_at = NULL, updated_at = @now
        WHERE edition_id = @editionId AND state = 'failed'
          AND subscriber_id IN (SELECT id FROM subscribers WHERE status = 'confirmed')
        """;

    const string CountFailed = "SELECT count(*) FROM deliveries WHERE edition_id = @editionId AND state = 'failed'";

    const string RequeueOne = """
        INSERT INTO deliveries (edition_id, subscriber_id, state, created_at, updated_at)
        VALUES (@editionId, @subscriberId, 'pending', @now, @now)
        ON CONFLICT (edition_id, subscriber_id) DO UPDATE
        SET state = 'pending', resend_count = deliveries.resend_count + 1, lease_until = NULL, next_attempt_at = NULL,
            first_attempt_at = NULL, updated_at = excluded.updated_at
        WHERE deliveries.state NOT IN ('pending', 'sending')
        """;

    public async Task<EditionInfo?> FindEditionAsync(string month, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<EditionInfo>(new CommandDefinition(EditionByMonth, new { month }, cancellationToken: ct));
    }

    /// <summary>Marks the edition sent once no row is left to work on. True when this call did it.</summary>
    public async Task<bool> CompleteIfDoneAsync(long editionId, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(CompleteEdition, new { editionId, now }, cancellationToken: ct)) == 1;
    }

    public async Task<long> CountClaimableAsync(long editionId, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountClaimable, new { editionId, now }, cancellationToken: ct));
    }

    /// <summary>Rows that keep the edition from being complete now: pending, sending, or deferred and due.</summary>
    public async Task<long> CountLeftAsync(long editionId, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountLeft, new { editionId, now }, cancellationToken: ct));
    }

    /// <summary>Months of started editions with rows to work on now: pending, lease expired, or deferred and due.</summary>
    public async Task<IReadOnlyList<string>> EditionsWithDueWorkAsync(DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return (await connection.QueryAsync<string>(new CommandDefinition(EditionsWithDueWork, new { now }, cancellationToken: ct))).ToList();
    }

    public async Task<DateTimeOffset?> NextDeferredAttemptAsync(long editionId, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.ExecuteScalarAsync<DateTimeOffset?>(new CommandDefinition(NextDeferredAttempt, new { editionId }, cancellationToken: ct));
    }

    public async Task<LedgerCounts> CountsAsync(long editionId, int topReasons, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        var byState = DeliveryState.All.ToDictionary(s => s, _ => 0L);
        foreach (var (state, count) in await connection.QueryAsync<(string, long)>(new CommandDefinition(CountsByState, new { editionId }, cancellationToken: ct)))
        {
            byState[state] = count;
        }
        var reasons = await connection.QueryAsync<(string State, string Reason, long Count, string? Example)>(new CommandDefinition(
            TopFailureReasons, new { editionId, limit = topReasons }, cancellationToken: ct));
        return new LedgerCounts(byState, reasons.Select(r => new FailureReason(r.State, r.Reason, r.Count, r.Example)).ToList());
    }

    /// <summary>
    /// Puts the failed rows of subscribers still confirmed back in the queue as a new round. Returns how many were
    /// requeued and how many stay failed (their subscriber bounced, unsubscribed or was erased).
    /// </summary>
    public async Task<(int Requeued, int LeftFailed)> RequeueFailedAsync(long editionId, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var requeued = await connection.ExecuteAsync(new CommandDefinition(RequeueFailed, new { editionId, now }, tx, cancellationToken: ct));
        var left = await connection.ExecuteScalarAsync<int>(new CommandDefinition(CountFailed, new { editionId }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return (requeued, left);
    }

    /// <summary>Queues one subscriber for the edition: a new round of their row, or a first row. False if already queued.</summary>
    public async Task<bool> RequeueOneAsync(long editionId, long subscriberId, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(RequeueOne, new { editionId, subscriberId, now }, cancellationToken: ct)) == 1;
    }
}
