using System.Threading.Channels;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// The claimed rows waiting for a worker. The claimer adds a whole batch, then sleeps until the queue is down to
/// <paramref name="lowWater"/> rows, so it wakes once per batch. (A bounded channel that it kept full woke it for
/// every row a worker took: a hop through the thread pool per message.) Workers wait on it from their own threads.
/// </summary>
sealed class ClaimedQueue(int lowWater) : IDisposable
{
    readonly Channel<ClaimedDelivery> _rows = Channel.CreateUnbounded<ClaimedDelivery>(new UnboundedChannelOptions { SingleWriter = true });
    readonly SemaphoreSlim _ranLow = new(0, 1);
    int _refillWanted; // 1 while the claimer waits for the queue to run low; whoever resets it owns the wake-up

    public void Add(IReadOnlyList<ClaimedDelivery> batch)
    {
        foreach (var row in batch)
        {
            // Unbounded, and completed only by the claimer after its last batch: always taken.
            _rows.Writer.TryWrite(row);
        }
    }

    /// <summary>Returns once at most lowWater rows are left: time to claim the next batch.</summary>
    public async Task WaitUntilLowAsync(CancellationToken ct)
    {
        Volatile.Write(ref _refillWanted, 1);
        if (_rows.Reader.Count > lowWater)
        {
            await _ranLow.WaitAsync(ct);
        }
        else if (Interlocked.Exchange(ref _refillWanted, 0) == 0)
        {
            // A worker took the queue low between the two checks above and is signalling: take that signal, so
            // the next wait does not return early.
            await _ranLow.WaitAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// The next row, blocking only while the queue is empty. False once it is completed and empty, or on
    /// <paramref name="ct"/>. The take that leaves lowWater rows wakes a claimer waiting to refill.
    /// </summary>
    public bool TryTake(out ClaimedDelivery row, CancellationToken ct)
    {
        while (!_rows.Reader.TryRead(out row!))
        {
            try
            {
                // Blocking is what a worker's thread is for; it waits here only when the claimer is behind or done.
                if (!_rows.Reader.WaitToReadAsync(ct).AsTask().GetAwaiter().GetResult())
                {
                    return false;
                }
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        if (Volatile.Read(ref _refillWanted) == 1 && _rows.Reader.Count <= lowWater && Interlocked.Exchange(ref _refillWanted, 0) == 1)
        {
            _ranLow.Release();
        }
        return true;
    }

    /// <summary>No more batches: workers drain what is left and stop.</summary>
    public void Complete() => _rows.Writer.TryComplete();

    /// <summary>Takes out the rows nobody took (after a stop or a halt), to go back to the ledger's queue.</summary>
    public IEnumerable<long> TakeLeft()
    {
        while (_rows.Reader.TryRead(out var row))
        {
            yield return row.DeliveryId;
        }
    }

    public void Dispose() => _ranLow.Dispose();
}
