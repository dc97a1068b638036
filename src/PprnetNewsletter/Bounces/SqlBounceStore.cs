using System.Data.Common;
using Dapper;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Bounces;

/// <summary>
/// The bounce reports and the bounce feature's reads and writes of the delivery ledger: all of its SQL, which is the
/// same for both engines. An engine's store says only how to open a connection.
/// </summary>
public abstract class SqlBounceStore(TimeProvider time) : IBounceStore
{
    const int MaxRawBytes = IBounceStore.MaxRawBytes;

    /// <summary>A new open connection to the database; the caller disposes of it.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    const string Insert = """
        INSERT INTO bounce_reports (received_at, channel, event_id, kind, subscriber_id, edition_id, recipient, status,
                                    diagnostic, outcome, raw, raw_truncated)
        VALUES (@now, @Channel, @EventId, @kind, @SubscriberId, @EditionId, @Recipient, @Status, @Diagnostic, 'recorded',
                @raw, @truncated)
        ON CONFLICT (channel, event_id) DO NOTHING
        RETURNING id
        """;

    const string Columns = """
        SELECT r.id, r.received_at AS ReceivedAt, r.channel, r.event_id AS EventId, r.kind, r.subscriber_id AS SubscriberId,
               s.email, e.month, r.recipient, r.status, r.diagnostic, r.outcome, coalesce(length(r.raw), 0) AS RawBytes,
               r.raw_truncated AS RawTruncated
        FROM bounce_reports r
        LEFT JOIN subscribers s ON s.id = r.subscriber_id
        LEFT JOIN editions e ON e.id = r.edition_id
        """;

    // A class with setters: Dapper converts a column to a property's type (the raw length is a 32-bit integer in
    // PostgreSQL, the flag an integer in SQLite and a boolean in PostgreSQL), never to a constructor parameter's.
    sealed class Row
    {
        public long Id { get; init; }
        public DateTimeOffset ReceivedAt { get; init; }
        public string Channel { get; init; } = "";
        public string EventId { get; init; } = "";
        public string Kind { get; init; } = "";
        public long? SubscriberId { get; init; }
        public string? Email { get; init; }
        public string? Month { get; init; }
        public string? Recipient { get; init; }
        public string? Status { get; init; }
        public string? Diagnostic { get; init; }
        public string Outcome { get; init; } = "";
        public long RawBytes { get; init; }
        public bool RawTruncated { get; init; }

        public BounceReportView ToView() => new(Id, ReceivedAt, Channel, EventId, Kind, SubscriberId, Email, Month, Recipient,
            Status, Diagnostic, Outcome, RawBytes, RawTruncated);
    }

    static string KindName(ReportKind kind) => IBounceStore.KindName(kind);

    public async Task<bool> SeenAsync(string channel, string eventId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM bounce_reports WHERE channel = @channel AND event_id = @eventId", new { channel, eventId },
            cancellationToken: ct)) > 0;
    }

    public async Task<long?> AddAsync(NewBounceReport report, CancellationToken ct)
    {
        var raw = report.Raw;
        var truncated = raw is { Length: > MaxRawBytes };
        await using var connection = await OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(Insert, new
        {
            now = time.GetUtcNow(),
            report.Channel,
            report.EventId,
            kind = KindName(report.Kind),
            report.SubscriberId,
            report.EditionId,
            report.Recipient,
            report.Status,
            report.Diagnostic,
            raw = truncated ? raw![..MaxRawBytes] : raw,
            truncated,
        }, cancellationToken: ct));
    }

    public async Task SetOutcomeAsync(long id, string outcome, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE bounce_reports SET outcome = @outcome WHERE id = @id", new { id, outcome }, cancellationToken: ct));
    }

    public async Task RemoveAsync(long id, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM bounce_reports WHERE id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<int> CountTransientAsync(long subscriberId, DateTimeOffset since, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition("""
            SELECT count(*) FROM bounce_reports
            WHERE subscriber_id = @subscriberId AND kind = 'transient' AND received_at >= @since
            """, new { subscriberId, since }, cancellationToken: ct));
    }

    /// <summary>
    /// The delivery a Message-ID belongs to. The month and subscriber id at the start of a digest's Message-ID
    /// (<c>2023-03.42.….@domain</c>) find the ledger row through its unique key; the row's stored Message-ID must then
    /// match exactly, so a guessed or foreign id finds nothing.
    /// </summary>
    public async Task<(long SubscriberId, long EditionId)?> FindDeliveryAsync(string? messageId, CancellationToken ct)
    {
        if (messageId?.Split('.') is not [var month, var subscriber, ..] || month.Length != 7
            || !long.TryParse(subscriber, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var subscriberId))
        {
            return null;
        }
        await using var connection = await OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<(long SubscriberId, long EditionId)?>(new CommandDefinition("""
            SELECT d.subscriber_id, d.edition_id
            FROM deliveries d JOIN editions e ON e.id = d.edition_id
            WHERE e.month = @month AND d.subscriber_id = @subscriberId AND d.message_id = @messageId
            """, new { month, subscriberId, messageId }, cancellationToken: ct));
        return row;
    }

    /// <summary>
    /// Marks the subscriber's delivery of the edition failed with the bounce's diagnostic, and adds the bounce to its
    /// history: the relay had accepted it, the recipient's server did not. False when there is no such row.
    /// </summary>
    public async Task<bool> FailDeliveryAsync(long subscriberId, long editionId, string? status, string diagnostic, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var connection = await OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var id = await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition("""
            UPDATE deliveries SET state = 'failed', last_error = @diagnostic, enhanced_status = coalesce(@status, enhanced_status),
                                  updated_at = @now, lease_until = NULL, next_attempt_at = NULL
            WHERE edition_id = @editionId AND subscriber_id = @subscriberId AND state <> 'sending'
            RETURNING id
            """, new { subscriberId, editionId, status, diagnostic, now }, tx, cancellationToken: ct));
        if (id is { } deliveryId)
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO delivery_attempts (delivery_id, resend_count, attempted_at, outcome, enhanced_status, error, message_id)
                SELECT id, resend_count, @now, 'failed', @status, @diagnostic, message_id FROM deliveries WHERE id = @deliveryId
                """, new { deliveryId, status, diagnostic, now }, tx, cancellationToken: ct));
        }
        await tx.CommitAsync(ct);
        return id is not null;
    }

    public async Task<BounceReportPage> ListAsync(string? kind, int offset, int limit, CancellationToken ct)
    {
        if (offset < 0 || limit is < 1 or > IBounceStore.MaxPageSize)
        {
            throw new UsageException($"offset must be 0 or more and limit between 1 and {IBounceStore.MaxPageSize}.");
        }
        var kinds = Enum.GetValues<ReportKind>().Where(k => k != ReportKind.Unrecognised).Select(KindName).ToList();
        if (kind is not null && !kinds.Contains(kind))
        {
            throw new UsageException($"Unknown kind '{kind}'; use one of {string.Join(", ", kinds)}.");
        }
        await using var connection = await OpenAsync(ct);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            $"{Columns} WHERE @kind IS NULL OR r.kind = @kind ORDER BY r.id DESC LIMIT @limit OFFSET @offset",
            new { kind, offset, limit }, cancellationToken: ct));
        var total = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT count(*) FROM bounce_reports WHERE @kind IS NULL OR kind = @kind", new { kind }, cancellationToken: ct));
        return new BounceReportPage(rows.Select(r => r.ToView()).ToList(), total, offset, limit);
    }

    public async Task<BounceReportView?> GetAsync(long id, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return (await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"{Columns} WHERE r.id = @id", new { id }, cancellationToken: ct)))?.ToView();
    }

    public async Task<byte[]?> RawAsync(long id, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<byte[]?>(new CommandDefinition(
            "SELECT raw FROM bounce_reports WHERE id = @id", new { id }, cancellationToken: ct));
    }
}
