using System.Data.Common;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// The mail queue in PostgreSQL. Several instances claim at once: the rows a claim picks are locked, and another
/// claim running at the same moment skips them (SKIP LOCKED) instead of waiting for them or taking them too.
/// </summary>
public sealed class PgMailQueueStore(PgDb db) : MailQueueStoreBase
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);

    protected override string Claim => """
        UPDATE mail_queue SET state = 'sending', lease_owner = @owner, lease_until = @leaseUntil, attempts = attempts + 1
        WHERE id IN (SELECT id FROM mail_queue
                     WHERE (state = 'pending' AND next_attempt_at <= @now) OR (state = 'sending' AND lease_until < @now)
                     ORDER BY id LIMIT @limit
                     FOR UPDATE SKIP LOCKED)
        RETURNING id AS Id, kind AS Kind, recipient AS Recipient, message AS Message, attempts AS Attempts, created_at AS CreatedAt
        """;
}
