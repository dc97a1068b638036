namespace PprnetNewsletter.Delivery;

/// <summary>
/// Rows of a run that met a transient failure (a 4xx, a dropped connection, a time-out) and wait for their next
/// attempt, still 'sending' under the run's lease. The connection that failed goes on with other rows at once: a
/// back-off holds the row, never the connection. Timed by the clock of the resilience pipeline, which times the
/// circuit breaker's pauses too.
/// </summary>
sealed class RetryLater(TimeProvider clock)
{
    readonly PriorityQueue<ClaimedDelivery, long> _rows = new();
    readonly Lock _lock = new();

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _rows.Count;
            }
        }
    }

    public void Add(ClaimedDelivery row, TimeSpan after)
    {
        var due = clock.GetTimestamp() + (long)(after.TotalSeconds * clock.TimestampFrequency);
        lock (_lock)
        {
            _rows.Enqueue(row, due);
        }
    }

    /// <summary>The rows whose wait is over, earliest first.</summary>
    public List<ClaimedDelivery> TakeDue()
    {
        var now = clock.GetTimestamp();
        var due = new List<ClaimedDelivery>();
        lock (_lock)
        {
            while (_rows.TryPeek(out _, out var at) && at <= now)
            {
                due.Add(_rows.Dequeue());
            }
        }
        return due;
    }

    /// <summary>How long until the next row is due; null when none waits.</summary>
    public TimeSpan? UntilNext()
    {
        lock (_lock)
        {
            return _rows.TryPeek(out _, out var at)
                ? TimeSpan.FromSeconds(Math.Max(0, at - clock.GetTimestamp()) / (double)clock.TimestampFrequency)
                : null;
        }
    }

    /// <summary>Every row still waiting (the run stops: they go back to pending).</summary>
    public List<ClaimedDelivery> TakeAll()
    {
        lock (_lock)
        {
            var all = new List<ClaimedDelivery>(_rows.Count);
            while (_rows.TryDequeue(out var row, out _))
            {
                all.Add(row);
            }
            return all;
        }
    }
}
