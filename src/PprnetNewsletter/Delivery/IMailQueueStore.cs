namespace PprnetNewsletter.Delivery;

/// <summary>
/// The table behind <see cref="MailQueue"/> (mail_queue): <see cref="SqliteMailQueueStore"/> and
/// <see cref="PgMailQueueStore"/>. A claim never hands one email to two workers, whichever process or instance runs them.
/// </summary>
public interface IMailQueueStore
{
    Task<long> InsertAsync(string kind, string recipient, byte[] message, string? messageId, DateTimeOffset now, CancellationToken ct);

    /// <summary>Leases up to <paramref name="limit"/> due emails (or emails whose worker's lease lapsed) to <paramref name="owner"/>, counting the attempt.</summary>
    Task<IReadOnlyList<QueuedMail>> ClaimAsync(long owner, DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken ct);

    /// <summary>Sets the email's state (sent, failed, or pending again from <paramref name="next"/>) and gives up its lease.</summary>
    Task SettleAsync(long id, string state, DateTimeOffset? next, string? error, DateTimeOffset now, CancellationToken ct);

    /// <summary>Emails not sent or failed yet.</summary>
    Task<long> CountOpenAsync(CancellationToken ct);
}
