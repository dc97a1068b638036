using Microsoft.Extensions.Options;

namespace PprnetNewsletter.Delivery;

/// <summary>A relay slot this process holds: one connection to the relay, opened on first use and kept between messages.</summary>
public sealed class RelaySlot
{
    internal RelaySlot(int number, DateTimeOffset heldSince)
    {
        Number = number;
        HeldSince = heldSince;
    }

    public int Number { get; }

    internal DateTimeOffset HeldSince { get; }

    /// <summary>An exchange holds the slot (a turn).</summary>
    internal bool InUse { get; set; }

    /// <summary>Being given back: no new turn on it.</summary>
    internal bool Retiring { get; set; }

    /// <summary>No longer held: the connection left on it is closed when its turn ends.</summary>
    internal bool Gone { get; set; }

    /// <summary>The slot's connection, set and cleared by the exchange holding the turn; null until the first one.</summary>
    internal SmtpConnection? Connection { get; set; }
}

/// <summary>One message's turn on a relay slot: the exchange runs on the slot's connection; disposing ends the turn.</summary>
public readonly struct RelayTurn(RelayGate gate, RelaySlot slot) : IDisposable
{
    public RelaySlot Slot => slot;

    public void Dispose() => gate.End(slot);
}

/// <summary>
/// The one gate every message to the relay passes, whatever sends it (an edition's run, the queue of single emails),
/// which makes Smtp:MaxConnections and Smtp:MessagesPerSecond hold across every process sharing the database.
/// </summary>
/// <remarks>
/// <para>The relay is cut into slots (table relay_slots, <see cref="IRelaySlots"/>): Smtp:MaxConnections of them, or
/// Smtp:MessagesPerSecond if that is fewer (a connection per message a second is plenty). A process leases slots while
/// it has mail for the relay, renews them every second, opens one connection per slot it holds, and starts messages at
/// no more than its slots' share of the rate: <c>slots held × MessagesPerSecond / slots</c> messages in any second.
/// Summed over the processes, neither limit can be passed. Only the heartbeat touches the database; a message's
/// turn is a lock and a few comparisons.</para>
/// <para>The rate holds at the relay, not only here: a message is counted from its start until one second after its
/// exchange ended, and a new one starts only while fewer than the share are counted. Any message the relay receives
/// within one second overlaps that second's start, so no second at the relay holds more than the share. Starts are
/// also spaced evenly (1 / share apart), so the share is sent smoothly, not in a burst each second.</para>
/// <para>Fairness: a process waiting for slots says so (relay_waiters); a holder gives back what it has no use for,
/// and any slot while a waiter holds two fewer than it does, so shares even out within seconds; with more processes
/// than slots, a waiter holding none gets the slot held longest once it has been held for <see cref="Turn"/>. A slot
/// goes back only once no exchange runs on it and this process's last second fits what it keeps. A slot the process
/// could not renew is given up locally before its lease lapses (its connection cut), so it is never used twice.</para>
/// </remarks>
public sealed class RelayGate : IAsyncDisposable
{
    /// <summary>
    /// How long a heartbeat holds its slots. Renewed every <see cref="Beat"/>; a process that dies on another host frees
    /// its slots after this (on this host at once: its process is gone).
    /// </summary>
    internal static readonly TimeSpan Lease = TimeSpan.FromSeconds(15);

    internal static readonly TimeSpan Beat = TimeSpan.FromSeconds(1);

    /// <summary>Slots not renewed are given up this long before their lease lapses in the database (clocks, stalls).</summary>
    static readonly TimeSpan LapseMargin = TimeSpan.FromSeconds(5);

    /// <summary>With more processes than slots, how long a slot is held before a process holding none gets it.</summary>
    internal static readonly TimeSpan Turn = TimeSpan.FromSeconds(5);

    /// <summary>Slots unused this long go back even when nobody waits (and the heartbeat stops).</summary>
    static readonly TimeSpan IdleRelease = TimeSpan.FromSeconds(10);

    static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    readonly IRelaySlots _store;
    readonly TimeProvider _clock;
    readonly ILogger<RelayGate> _logger;
    readonly int _ownSlots;
    readonly int _ownRate;
    readonly long _owner = Random.Shared.NextInt64(1, long.MaxValue);
    readonly CancellationTokenSource _stop = new();
    readonly ITimer _pump;
    readonly ITimer _lapse;

    readonly Lock _lock = new();
    readonly List<RelaySlot> _held = [];
    readonly Queue<TaskCompletionSource<RelaySlot>> _waiting = new();
    // When each exchange of the last second ended (rate-limited only): counted against the share for one second more.
    readonly Queue<long> _ended = new();
    int _slots;
    int _perSecond;
    int _inFlight;
    int _peakDemand;
    long _nextStart;
    DateTimeOffset _lastDemand;
    bool _warnedSettings;
    bool _disposed;
    TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    Task? _loop;

    public RelayGate(IRelaySlots store, IOptions<SmtpOptions> smtp, TimeProvider clock, ILogger<RelayGate> logger)
    {
        _store = store;
        _clock = clock;
        _logger = logger;
        var o = smtp.Value;
        _ownRate = o.MessagesPerSecond;
        _ownSlots = o.MessagesPerSecond > 0 ? Math.Min(o.MaxConnections, o.MessagesPerSecond) : o.MaxConnections;
        (_slots, _perSecond) = (_ownSlots, _ownRate);
        _pump = clock.CreateTimer(static gate => ((RelayGate)gate!).PumpNow(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _lapse = clock.CreateTimer(static gate => ((RelayGate)gate!).Lapse(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Waits for a turn on the calling thread (the sending engine's connections each have a thread of their own).</summary>
    public RelayTurn Take(CancellationToken ct)
    {
        var turn = TakeAsync(ct);
        return turn.IsCompletedSuccessfully ? turn.Result : turn.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>A turn on a slot this process holds, once the rate allows one more message; first come, first served.</summary>
    public ValueTask<RelayTurn> TakeAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        TaskCompletionSource<RelaySlot> waiter;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _loop ??= Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
            if (_waiting.Count == 0 && TryGrant() is { } slot)
            {
                NoteDemand();
                return ValueTask.FromResult(new RelayTurn(this, slot));
            }
            waiter = new TaskCompletionSource<RelaySlot>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiting.Enqueue(waiter);
            NoteDemand();
            if (_held.Count == 0)
            {
                // Nothing held: ask the database now rather than at the next heartbeat.
                _wake.TrySetResult();
            }
            SchedulePump();
        }
        return WaitAsync(waiter, ct);
    }

    async ValueTask<RelayTurn> WaitAsync(TaskCompletionSource<RelaySlot> waiter, CancellationToken ct)
    {
        // Cancelled under the lock, so a turn is either granted or cancelled, never both.
        await using (ct.UnsafeRegister(static (state, token) =>
                     {
                         var (gate, w) = ((RelayGate, TaskCompletionSource<RelaySlot>))state!;
                         lock (gate._lock)
                         {
                             w.TrySetCanceled(token);
                         }
                     }, (this, waiter)))
        {
            return new RelayTurn(this, await waiter.Task);
        }
    }

    /// <summary>Ends a turn: the slot is free for the next message, and the exchange counts against the rate for one second more.</summary>
    internal void End(RelaySlot slot)
    {
        SmtpConnection? orphan = null;
        lock (_lock)
        {
            slot.InUse = false;
            _inFlight--;
            if (_perSecond > 0)
            {
                _ended.Enqueue(_clock.GetTimestamp());
            }
            if (slot.Gone)
            {
                (orphan, slot.Connection) = (slot.Connection, null);
            }
            Pump();
        }
        orphan?.Quit(_logger);
    }

    /// <summary>Under the lock: a free slot if this process may start a message now, taken; otherwise null.</summary>
    RelaySlot? TryGrant()
    {
        RelaySlot? free = null;
        foreach (var slot in _held)
        {
            if (!slot.InUse && !slot.Retiring)
            {
                free = slot;
                break;
            }
        }
        if (free is null)
        {
            return null;
        }
        if (_perSecond > 0)
        {
            var now = _clock.GetTimestamp();
            ForgetOlderThanWindow(now);
            var share = Share();
            if (_inFlight + _ended.Count >= share || now < _nextStart)
            {
                return null;
            }
            // Starts keep to an even grid, so a timer that fires late is made up by the next start, never by more than
            // one interval (two starts at once at most); the count above is what the limit rests on.
            var interval = _clock.TimestampFrequency / share;
            _nextStart = Math.Max(_nextStart, now - interval) + interval;
        }
        free.InUse = true;
        _inFlight++;
        return free;
    }

    /// <summary>Under the lock: messages this process may have at the relay in any one second, from the slots it keeps.</summary>
    int Share()
    {
        var kept = 0;
        foreach (var slot in _held)
        {
            kept += slot.Retiring ? 0 : 1;
        }
        return (int)((long)kept * _perSecond / _slots);
    }

    void ForgetOlderThanWindow(long now)
    {
        while (_ended.TryPeek(out var at) && _clock.GetElapsedTime(at, now) >= Window)
        {
            _ended.Dequeue();
        }
    }

    void NoteDemand() => _peakDemand = Math.Max(_peakDemand, _inFlight + _waiting.Count);

    void PumpNow()
    {
        lock (_lock)
        {
            Pump();
        }
    }

    /// <summary>Under the lock: turns for the waiters in order, while the slots and the rate allow.</summary>
    void Pump()
    {
        while (_waiting.TryPeek(out var head))
        {
            if (head.Task.IsCompleted)
            {
                _waiting.Dequeue();   // cancelled
                continue;
            }
            if (TryGrant() is not { } slot)
            {
                break;
            }
            _waiting.Dequeue();
            head.TrySetResult(slot);
        }
        SchedulePump();
    }

    /// <summary>Under the lock: when waiters wait for time (the pace, or the last second's count) rather than a slot, a timer for then.</summary>
    void SchedulePump()
    {
        if (_waiting.Count == 0 || _perSecond == 0)
        {
            return;
        }
        var now = _clock.GetTimestamp();
        var due = _nextStart > now ? _clock.GetElapsedTime(now, _nextStart) : TimeSpan.Zero;
        if (_inFlight + _ended.Count >= Share())
        {
            if (!_ended.TryPeek(out var oldest))
            {
                return;   // all in flight: the next end pumps
            }
            var expires = Window - _clock.GetElapsedTime(oldest, now);
            due = expires > due ? expires : due;
        }
        _pump.Change(due + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
    }

    /// <summary>The heartbeat: while this process holds or wants slots, once a second (at once when it wants its first).</summary>
    async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Task wake;
            bool idle;
            lock (_lock)
            {
                if (_wake.Task.IsCompleted)
                {
                    _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                wake = _wake.Task;
                idle = _held.Count == 0 && _peakDemand == 0 && _inFlight + _waiting.Count == 0;
            }
            if (idle)
            {
                await Task.WhenAny(wake, Task.Delay(Timeout.InfiniteTimeSpan, stop));
                continue;
            }
            try
            {
                await BeatAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The database is busy or unreachable: slots not renewed are given up before their lease lapses (Lapse).
                _logger.LogWarning(e, "Could not renew or lease the relay's connection slots; trying again in {Beat}", Beat);
            }
            await Task.WhenAny(wake, Task.Delay(Beat, _clock, stop));
        }
    }

    async Task BeatAsync(CancellationToken stop)
    {
        var now = _clock.GetUtcNow();
        int wanted;
        bool idleLong;
        lock (_lock)
        {
            wanted = Math.Min(_peakDemand, _slots);
            _peakDemand = _inFlight + _waiting.Count;
            if (wanted > 0)
            {
                _lastDemand = now;
            }
            idleLong = wanted == 0 && now - _lastDemand >= IdleRelease;
        }
        if (idleLong)
        {
            await GiveBackAsync(int.MaxValue, stop);
            await _store.LeaveAsync(_owner, stop);
            return;
        }
        var leaseUntil = now + Lease;
        var allotment = await _store.HeartbeatAsync(new RelayRequest(_owner, _ownSlots, _ownRate, wanted, now, leaseUntil), stop);
        Adopt(allotment, now, leaseUntil);
        if (RelayFairness.Surplus(_owner, wanted, allotment, now, Turn) is var give and > 0)
        {
            await GiveBackAsync(give, stop);
        }
    }

    /// <summary>Takes the table's word: its settings, and which slots this process holds (new ones added, lost ones dropped).</summary>
    void Adopt(RelayAllotment allotment, DateTimeOffset now, DateTimeOffset leaseUntil)
    {
        List<SmtpConnection> cut = [];
        lock (_lock)
        {
            if ((allotment.Slots, allotment.MessagesPerSecond) != (_ownSlots, _ownRate) && !_warnedSettings)
            {
                _warnedSettings = true;
                _logger.LogWarning(
                    "Another process using the relay set its limits first: {Slots} connection(s), {Rate} messages/s (0: none), shared by all; " +
                    "this process's Smtp:MaxConnections and Smtp:MessagesPerSecond apply once no other process uses the relay",
                    allotment.Slots, allotment.MessagesPerSecond);
            }
            (_slots, _perSecond) = (allotment.Slots, allotment.MessagesPerSecond);
            var mine = allotment.HeldBy(_owner);
            foreach (var lost in _held.Where(s => !mine.Any(m => m.Slot == s.Number)).ToList())
            {
                Drop(lost, cut);
            }
            foreach (var row in mine.Where(m => !_held.Any(s => s.Number == m.Slot)))
            {
                _held.Add(new RelaySlot(row.Slot, row.HeldSince ?? now));
            }
            if (_held.Count > 0)
            {
                var left = leaseUntil - LapseMargin - _clock.GetUtcNow();
                _lapse.Change(left > TimeSpan.Zero ? left : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
            }
            Pump();
        }
        cut.ForEach(c => c.Abort());
    }

    /// <summary>Under the lock: the slot is no longer this process's; its connection is cut (an exchange on it fails and is retried).</summary>
    void Drop(RelaySlot slot, List<SmtpConnection> cut)
    {
        _held.Remove(slot);
        slot.Gone = true;
        if (slot.Connection is { } connection)
        {
            cut.Add(connection);
            if (!slot.InUse)
            {
                slot.Connection = null;
            }
        }
    }

    /// <summary>The slots' lease is about to lapse without a renewal: they may soon be another process's, so they are given up now.</summary>
    void Lapse()
    {
        List<SmtpConnection> cut = [];
        lock (_lock)
        {
            if (_held.Count == 0)
            {
                return;
            }
            _logger.LogWarning("The relay's connection slots could not be renewed in time; their {Count} connection(s) are closed until they are leased again", _held.Count);
            foreach (var slot in _held.ToList())
            {
                Drop(slot, cut);
            }
        }
        cut.ForEach(c => c.Abort());
    }

    /// <summary>
    /// Gives back up to <paramref name="count"/> slots, those held longest first, once no exchange runs on them and what
    /// this process had at the relay in the last second fits the share of the slots it keeps. A slot still busy after
    /// a third of the lease is kept (the next heartbeat decides again).
    /// </summary>
    async Task GiveBackAsync(int count, CancellationToken stop)
    {
        List<RelaySlot> retiring;
        lock (_lock)
        {
            retiring = [.. _held.Where(s => !s.Retiring).OrderBy(s => s.HeldSince).Take(count)];
            retiring.ForEach(s => s.Retiring = true);
        }
        var deadline = _clock.GetUtcNow() + (Lease / 3);
        while (true)
        {
            lock (_lock)
            {
                ForgetOlderThanWindow(_clock.GetTimestamp());
                retiring.RemoveAll(s => s.Gone);
                if (retiring.TrueForAll(s => !s.InUse) && (_perSecond == 0 || _inFlight + _ended.Count <= Share()))
                {
                    break;
                }
                if (_clock.GetUtcNow() >= deadline)
                {
                    retiring.ForEach(s => s.Retiring = false);
                    Pump();
                    return;
                }
            }
            await Task.Delay(TimeSpan.FromMilliseconds(10), _clock, stop);
        }
        List<SmtpConnection> closing = [];
        lock (_lock)
        {
            foreach (var slot in retiring)
            {
                _held.Remove(slot);
                slot.Gone = true;
                if (slot.Connection is { } connection)
                {
                    closing.Add(connection);
                    slot.Connection = null;
                }
            }
            if (_held.Count == 0)
            {
                _lapse.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }
        closing.ForEach(c => c.Quit(_logger));
        if (retiring.Count > 0)
        {
            await _store.ReleaseAsync(_owner, [.. retiring.Select(s => s.Number)], stop);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? loop;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            loop = _loop;
        }
        // Outside the lock: cancelling runs the heartbeat's continuations.
        await _stop.CancelAsync();
        if (loop is not null)
        {
            await loop;
        }
        await _pump.DisposeAsync();
        await _lapse.DisposeAsync();
        List<SmtpConnection> closing = [];
        lock (_lock)
        {
            foreach (var slot in _held.ToList())
            {
                Drop(slot, closing);
            }
            while (_waiting.TryDequeue(out var waiter))
            {
                waiter.TrySetException(new ObjectDisposedException(nameof(RelayGate)));
            }
        }
        closing.ForEach(c => c.Quit(_logger));
        if (loop is not null)
        {
            try
            {
                await _store.LeaveAsync(_owner, CancellationToken.None);
            }
            catch (Exception e)
            {
                // The slots lapse on their own (at once for another process on this host: this one is gone).
                _logger.LogWarning(e, "Could not give back the relay's connection slots on the way out");
            }
        }
        _stop.Dispose();
    }
}

/// <summary>How many slots a holder gives back at a heartbeat so that every process using the relay gets its turn.</summary>
public static class RelayFairness
{
    /// <param name="me">The holder.</param>
    /// <param name="wanted">How many slots it could use now.</param>
    /// <param name="allotment">The table as its heartbeat left it.</param>
    /// <param name="now">Now.</param>
    /// <param name="turn">How long a slot is held before a waiter holding none may have it.</param>
    public static int Surplus(long me, int wanted, RelayAllotment allotment, DateTimeOffset now, TimeSpan turn)
    {
        var mine = allotment.HeldBy(me).Count;
        var others = allotment.Waiters.Where(w => w.Owner != me).Select(w => w.Holds).Order().ToList();
        if (mine == 0 || others.Count == 0)
        {
            return 0;
        }
        // What it has no use for now goes to those who wait.
        var give = Math.Max(0, mine - wanted);
        // Shares even out: a waiter holding two fewer than this process gets one of its slots, until they differ by one.
        while (others[0] <= mine - give - 2)
        {
            give++;
            others[0]++;
            others.Sort();
        }
        // More processes than slots: a waiter holding none gets the slot held longest, once it was held for a turn.
        if (give == 0 && others[0] == 0
            && allotment.Rows.Where(r => r.Holder is not null).MinBy(r => r.HeldSince) is { Holder: var holder, HeldSince: { } since }
            && holder == me && now - since >= turn)
        {
            give = 1;
        }
        return give;
    }
}
