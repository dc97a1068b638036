using MimeKit;

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
public sealed class MailQueue(IMailQueueStore store, TimeProvider clock)
{
    // Wakes the worker in this process at once; other processes' emails are found by its polling.
    readonly SemaphoreSlim _enqueued = new(0, 1);

    /// <summary>Queues <paramref name="message"/> (finished: signed, every header set); the worker sends it within moments.</summary>
    public async Task<long> EnqueueAsync(string kind, MimeMessage message, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await message.WriteToAsync(buffer, ct);
        var recipient = string.Join(", ", message.To.Mailboxes.Select(m => m.Address));
        var id = await store.InsertAsync(kind, recipient, buffer.ToArray(), message.MessageId, clock.GetUtcNow(), ct);
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
        return await store.ClaimAsync(owner, now, now + lease, limit, ct);
    }

    internal async Task SettleAsync(long id, string state, DateTimeOffset? next, string? error, CancellationToken ct)
    {
        await store.SettleAsync(id, state, next, error, clock.GetUtcNow(), ct);
    }

    /// <summary>Emails not sent or failed yet.</summary>
    public Task<long> CountOpenAsync(CancellationToken ct = default) => store.CountOpenAsync(ct);
}
