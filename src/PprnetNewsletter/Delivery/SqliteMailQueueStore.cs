using System.Data.Common;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Delivery;

/// <summary>The mail queue in SQLite: its single writer makes a claim exclusive.</summary>
public sealed class SqliteMailQueueStore(Db db) : MailQueueStoreBase
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);

    protected override string Claim => """
        UPDATE mail_queue SET state = 'sending', lease_owner = @owner, lease_until = @leaseUntil, attempts = attempts + 1
        WHERE id IN (SELECT id FROM mail_queue
                     WHERE (state = 'pending' AND next_attempt_at <= @now) OR (state = 'sending' AND lease_until < @now)
                     ORDER BY id LIMIT @limit)
        RETURNING id AS Id, kind AS Kind, recipient AS Recipient, message AS Message, attempts AS Attempts, created_at AS CreatedAt
        """;
}
