using System.Data.Common;
using Dapper;

namespace PprnetNewsletter.Admin;

/// <summary>
/// The admin views' own reads of the delivery ledger: all of the admin API's SQL, which is the same for both engines.
/// An engine's implementation says only how to open a connection.
/// </summary>
public abstract class SqlAdminQueries : IAdminQueries
{
    /// <summary>A new open connection to the database; the caller disposes of it.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);

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

    // A class with setters: Dapper converts a column to a property's type (the counts and the SMTP code are 64-bit
    // integers in SQLite and 32-bit ones in PostgreSQL), never to a constructor parameter's.
    sealed class Row
    {
        public long Id { get; init; }
        public long? SubscriberId { get; init; }
        public string? Email { get; init; }
        public string State { get; init; } = "";
        public long Attempts { get; init; }
        public long ResendCount { get; init; }
        public int? SmtpCode { get; init; }
        public string? EnhancedStatus { get; init; }
        public string? SmtpReply { get; init; }
        public string? LastError { get; init; }
        public string? MessageId { get; init; }
        public DateTimeOffset? NextAttemptAt { get; init; }
        public DateTimeOffset? SentAt { get; init; }
        public DateTimeOffset UpdatedAt { get; init; }
    }

    public async Task<IReadOnlyList<DeliveryRowView>> DeliveriesAsync(string month, string? state, int offset, int limit, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(DeliveriesOfEdition,
            new { month, state, offset, limit }, cancellationToken: ct));
        return rows.Select(r => new DeliveryRowView(r.Id, r.SubscriberId, r.Email, r.State, r.Attempts, r.ResendCount,
            r.SmtpCode, r.EnhancedStatus, r.SmtpReply, r.LastError, r.MessageId, r.NextAttemptAt, r.SentAt, r.UpdatedAt)).ToList();
    }
}
