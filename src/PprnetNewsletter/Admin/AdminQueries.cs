using Dapper;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Admin;

/// <summary>One delivery-ledger row as the admin API shows it (the address is gone when the subscriber was erased).</summary>
public sealed record DeliveryRowView(
    long Id, long? SubscriberId, string? Email, string State, long Attempts, long ResendCount, int? SmtpCode,
    string? EnhancedStatus, string? SmtpReply, string? LastError, string? MessageId, DateTimeOffset? NextAttemptAt,
    DateTimeOffset? SentAt, DateTimeOffset UpdatedAt);

public sealed record DeliveryRowsView(string Month, string? State, IReadOnlyList<DeliveryRowView> Items, int Offset, int Limit);

/// <summary>The admin views' own reads of the delivery ledger. All of the admin feature's SQL lives here.</summary>
public sealed class AdminQueries(Db db)
{
    public const int MaxPageSize = 1000;

    const string DeliveriesOfEdition = """
        SELECT d.id, d.subscriber_id AS SubscriberId, s.email, d.state, d.attempts, d.resend_count AS ResendCount,
               d.smtp_code AS SmtpCode, d.enhanced_status AS EnhancedStatus, d.smtp_reply AS SmtpReply,
               d.last_error AS LastError, d.message_id AS MessageId, d.next_attempt_at AS NextAttemptAt,
               d.sent_at AS SentAt, d.updated_at AS UpdatedAt
        FROM deliveries d
        JOIN editions e ON e.id = d.edition_id
        LEFT JOIN subscribers s ON s.id = d.subscriber_id
        WHERE e.month = @month AND (@state IS NULL OR d.state = @state)
        ORDER BY d.id
        LIMIT @limit OFFSET @offset
        """;

    // Dapper maps rows by constructor: column order and types (SQLite integers are Int64) must match the SELECT.
    sealed record Row(long Id, long? SubscriberId, string? Email, string State, long Attempts, long ResendCount, long? SmtpCode,
        string? EnhancedStatus, string? SmtpReply, string? LastError, string? MessageId, DateTimeOffset? NextAttemptAt,
        DateTimeOffset? SentAt, DateTimeOffset UpdatedAt);

    public async Task<IReadOnlyList<DeliveryRowView>> DeliveriesAsync(string month, string? state, int offset, int limit, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(DeliveriesOfEdition,
            new { month, state, offset, limit }, cancellationToken: ct));
        return rows.Select(r => new DeliveryRowView(r.Id, r.SubscriberId, r.Email, r.State, r.Attempts, r.ResendCount,
            (int?)r.SmtpCode, r.EnhancedStatus, r.SmtpReply, r.LastError, r.MessageId, r.NextAttemptAt, r.SentAt, r.UpdatedAt)).ToList();
    }
}
