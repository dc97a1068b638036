using Dapper;
using MimeKit;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Delivery;

/// <summary>A single email waiting in the queue, as the worker claimed it.</summary>
public sealed class QueuedMail
{
    public long Id { get; init; }

    public string Kind { get; init; } = "";

    public string Recipient { get; init; } = "";

    public byte[] Message { get; init; } = [];

    public long Attempts { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>
/// The durable queue of single emails (table mail_queue). A request enqueues a finished message and answers at once;
/// the delivery worker sends it, retrying transient failures with growing waits, until Delivery:GiveUpAfter.
/// </summary>
public sealed class MailQueue(Db db, TimeProvider clock)
{
    const string Insert = """
        INSERT INTO mail_queue (kind, recipient, message, message_id, next_attempt_at, created_at)
        VALUES (@kind, @recipient, @message, @messageId, @now, @now)
        RETURNING id
        """;

    // Due rows, and rows a dead worker held past their lease.
    const string Claim = """
        UPDATE mail_queue SET state = 'sending', lease_owner = @owner, lease_until = @leaseUntil, attempts = attempts + 1
        WHERE id IN (SELECT id FROM mail_queue
                     WHERE (state = 'pending' AND next_attempt_at <= @now) OR (state = 'sending' AND lease_until < @now)
                     ORDER BY id LIMIT @limit)
        RETURNING id AS Id, kind AS Kind, recipient AS Recipient, message AS Message, attempts AS Attempts, created_at AS CreatedAt
        """;

    const string Settle = """
        UPDATE mail_queue
        SET state = @state, next_attempt_at = coalesce(@next, next_attempt_at), lease_owner = NULL, lease_until = NULL,
            -- A finished email is kept as a record (who, what kind, when), not as a body: its links are the reader's keys.
            message = CASE WHEN @state IN ('sent', 'failed') THEN X'' ELSE message END,
            last_error = @error, sent_at = CASE WHEN @state = 'sent' THEN @now ELSE sent_at END
        WHERE id = @id
        """;

    const string Open = "SELECT count(*) FROM mail_queue WHERE state IN ('pending', 'sending')";

    // Wakes the worker in this process at once; other processes' emails are found by its polling.
    readonly SemaphoreSlim _enqueued = new(0, 1);

    /// <summary>Queues <paramref name="message"/> (finished: signed, every header set); the worker sends it within moments.</summary>
    public async Task<long> EnqueueAsync(string kind, MimeMessage message, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await message.WriteToAsync(buffer, ct);
        var recipient = string.Join(", ", message.To.Mailboxes.Select(m => m.Address));
        await using var connection = await db.OpenAsync(ct);
        var id = await connection.ExecuteScalarAsync<long>(new CommandDefinition(Insert,
            new { kind, recipient, message = buffer.ToArray(), messageId = message.MessageId, now = clock.GetUtcNow() }, cancellationToken: ct));
        if (_enqueued.CurrentCount == 0)
        {
            try
            {
                _enqueued.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another enqueue woke the worker between the check and the release: one wake-up is enough.
            }
        }
        return id;
    }

    /// <summary>Waits until something is enqueued in this process or <paramref name="poll"/> has passed.</summary>
    internal async Task WaitForWorkAsync(TimeSpan poll, CancellationToken ct) => await _enqueued.WaitAsync(poll, ct);

    internal async Task<IReadOnlyList<QueuedMail>> ClaimDueAsync(long owner, TimeSpan lease, int limit, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenAsync(ct);
        return (await connection.QueryAsync<QueuedMail>(new CommandDefinition(Claim,
            new { owner, now, leaseUntil = now + lease, limit }, cancellationToken: ct))).ToList();
    }

    internal async Task SettleAsync(long id, string state, DateTimeOffset? next, string? error, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(Settle,
            new { id, state, next, error, now = clock.GetUtcNow() }, cancellationToken: ct));
    }

    /// <summary>Emails not sent or failed yet.</summary>
    public async Task<long> CountOpenAsync(CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(Open, cancellationToken: ct));
    }
}
