using System.Data.Common;
using Dapper;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// The mail queue's statements that read the same in SQLite and PostgreSQL, shared by <see cref="SqliteMailQueueStore"/>
/// and <see cref="PgMailQueueStore"/>; each supplies its connection and its claim.
/// </summary>
public abstract class MailQueueStoreBase : IMailQueueStore
{
    const string Insert = """
        INSERT INTO mail_queue (kind, recipient, message, message_id, next_attempt_at, created_at)
        VALUES (@kind, @recipient, @message, @messageId, @now, @now)
        RETURNING id
        """;

    const string Settle = """
        UPDATE mail_queue
        SET state = @state, next_attempt_at = coalesce(@next, next_attempt_at), lease_owner = NULL, lease_until = NULL,
            -- A finished email is kept as a record (who, what kind, when), not as a body: its links are the reader's keys.
            message = CASE WHEN @state IN ('sent', 'failed') THEN @noBody ELSE message END,
            last_error = @error, sent_at = CASE WHEN @state = 'sent' THEN @now ELSE sent_at END
        WHERE id = @id
        """;

    const string Open = "SELECT count(*) FROM mail_queue WHERE state IN ('pending', 'sending')";

    /// <summary>A connection of the store's engine, open.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>
    /// The claim: marks due rows, and rows a dead worker held past their lease, 'sending' under @owner until
    /// @leaseUntil, counts the attempt, and returns them (columns named as <see cref="QueuedMail"/>'s properties).
    /// </summary>
    protected abstract string Claim { get; }

    public async Task<long> InsertAsync(string kind, string recipient, byte[] message, string? messageId, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(Insert,
            new { kind, recipient, message, messageId, now }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<QueuedMail>> ClaimAsync(long owner, DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return (await connection.QueryAsync<QueuedMail>(new CommandDefinition(Claim,
            new { owner, now, leaseUntil, limit }, cancellationToken: ct))).ToList();
    }

    public async Task SettleAsync(long id, string state, DateTimeOffset? next, string? error, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(Settle,
            new { id, state, next, error, now, noBody = Array.Empty<byte>() }, cancellationToken: ct));
    }

    public async Task<long> CountOpenAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(Open, cancellationToken: ct));
    }
}
