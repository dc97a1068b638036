using System.Collections.Concurrent;
using System.Globalization;
using MimeKit;
using Polly.CircuitBreaker;
using PprnetNewsletter.Content;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Delivery;

/// <summary>A snapshot of a running send, for progress lines and the admin dashboard.</summary>
public sealed record SendProgress(
    string Month,
    long Sent,
    long Failed,
    long Deferred,
    long Skipped,
    long Remaining,
    double RatePerSecond,
    TimeSpan? Eta,
    bool Paused,
    string? Status = null);

/// <summary>What one run of the engine over an edition did.</summary>
public sealed record SendResult(
    string Month,
    long Sent,
    long Failed,
    long Deferred,
    long Skipped,
    long Released,
    TimeSpan Elapsed,
    bool EditionSent,
    DateTimeOffset? NextRetryAt,
    string? StoppedBecause,
    long Left = 0)
{
    public long Processed => Sent + Failed + Deferred + Skipped;
}

/// <summary>
/// One run of the engine over an edition's ledger. It first takes the edition's run record (waiting while another
/// run holds it, or for a dead run's lease to lapse), renews it with a heartbeat while it works, and gives it back at
/// the end: one run per edition, whoever started it. Each pass over the ledger: a claimer leases batches of rows,
/// workers (one per SMTP connection, each on a thread of its own) compose and send, and a single writer, on a thread
/// of its own too, commits the outcomes within milliseconds of the server's reply, in groups. A crash at any moment
/// loses nothing:
/// unclaimed rows stay pending, claimed ones come back when their lease runs out, and only rows whose outcome was not
/// committed yet are sent twice. Those are at most <see cref="UnsettledPerConnection"/> per connection whatever the
/// writer's pace: a worker takes a slot before it works on a row, and the slot comes back once the row's outcome is
/// committed.
/// </summary>
sealed class SendRun
{
    /// <summary>How long messages already in flight may finish after a stop was asked for.</summary>
    static readonly TimeSpan InFlightGrace = TimeSpan.FromSeconds(1.5);

    static readonly TimeSpan LongestDeferral = TimeSpan.FromHours(6);

    /// <summary>How often the claimer looks for rows due for a retry once the ledger has nothing more to claim.</summary>
    static readonly TimeSpan RetryPoll = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Rows in work or not yet committed, per connection: the most a crash can send twice. One is on the wire; the
    /// others cover the outcomes gathering for the next commit (<see cref="CommitGathering"/>, about two messages'
    /// worth at full speed) and a slow commit. Commits that keep up never hold a connection back (with SQLite, the
    /// store copies its log into the database behind the writer, so that no commit waits for that); a writer that
    /// falls behind (a slow disk, another process holding the database) holds the sending back instead of piling up
    /// sends that a crash would repeat.
    /// </summary>
    internal const int UnsettledPerConnection = 8;

    /// <summary>
    /// How long the writer lets outcomes gather before committing them. A commit costs about the same for one row as
    /// for ten (the same few pages go to the write-ahead log), and committing each outcome as it came took a fifth of
    /// the send's CPU: a group of about six writes a third of the log and leaves that CPU to the connections and the
    /// relay (docs/benchmarks.md).
    /// </summary>
    static readonly TimeSpan CommitGathering = TimeSpan.FromMilliseconds(2);

    static readonly ConsentContext Bounce = new(ConsentSource.Bounce);

    readonly EditionSender.Dependencies _deps;
    readonly EditionInfo _edition;
    readonly IEditionMessages _messages;
    readonly IProgress<SendProgress>? _progress;
    readonly CancellationToken _stop;
    readonly CancellationTokenSource _halt;
    readonly CancellationTokenSource _inFlight = new();
    readonly CancellationTokenSource _ticking = new();
    readonly bool _waitIfBusy;
    readonly long _startTimestamp;
    // Names this run on the rows it leases, so it never claims back its own rows whose lease ran out while queued.
    readonly long _leaseOwner = Random.Shared.NextInt64(1, long.MaxValue);
    readonly int _workers;
    readonly int _batchSize;
    readonly SemaphoreSlim _unsettled;
    readonly List<long> _released = [];
    readonly long _skippedAtEnqueue;
    // Rows this run deferred: a later attempt in the same run replaces their count (the result counts rows, not attempts).
    readonly HashSet<long> _deferredHere = [];
    readonly RetryLater _retryLater;
    // Rows this pass claimed and has not finished with (settled, given back, or the run stopped): while any is left,
    // one of them may come back from RetryLater, so the pass is not over.
    long _inWork;
    long _releasedCount, _remaining, _sent, _failed, _deferred, _skipped;
    int _composeFailuresInRow;
    Exception? _fatal;
    string? _stoppedBecause;

    /// <summary>Composing failing for this many rows in a row is a bug (a template, the data), not bad luck: the run stops.</summary>
    internal const int ComposeFailuresToStop = 20;

    /// <param name="skippedAtEnqueue">Rows this run's enqueue settled as skipped: counted in its result and progress.</param>
    /// <param name="waitIfBusy">Wait while another run holds the edition (false: the retry job, which comes back anyway).</param>
    public SendRun(EditionSender.Dependencies deps, EditionInfo edition, IEditionMessages messages, long skippedAtEnqueue,
        IProgress<SendProgress>? progress, bool waitIfBusy, CancellationToken stop)
    {
        _waitIfBusy = waitIfBusy;
        _retryLater = new RetryLater(deps.Resilience.Clock);
        _skipped = _skippedAtEnqueue = skippedAtEnqueue;
        _deps = deps;
        _edition = edition;
        _messages = messages;
        _progress = progress;
        _stop = stop;
        _halt = CancellationTokenSource.CreateLinkedTokenSource(stop);
        _startTimestamp = deps.Clock.GetTimestamp();
        _workers = deps.Smtp.MaxConnections;
        var rate = deps.Smtp.MessagesPerSecond;
        // Claimed rows wait in the queue under their lease: under a rate limit, claim no more than a few seconds' worth.
        _batchSize = rate > 0 ? Math.Clamp(rate * 5, _workers, 256) : 256;
        _unsettled = new SemaphoreSlim(UnsettledPerConnection * _workers, UnsettledPerConnection * _workers);
    }

    TimeSpan Lease => _deps.Options.LeaseDuration;

    TimeSpan HeartbeatEvery => Lease / 3;

    /// <summary>
    /// Runs the edition to its end. Null when another run holds the edition and <c>waitIfBusy</c> was false.
    /// </summary>
    public async Task<SendResult?> ExecuteAsync()
    {
        var afterStop = _stop.Register(() => _inFlight.CancelAfter(InFlightGrace));
        try
        {
            if (!await AcquireAsync())
            {
                return _stop.IsCancellationRequested
                    ? new SendResult(_edition.Month, 0, 0, 0, 0, 0, Elapsed, false, null, "stopped on request")
                    : null;
            }
            _deps.Resilience.ForgetOutage();
            var ticking = TickAsync();
            try
            {
                return await RunAsync();
            }
            finally
            {
                await _ticking.CancelAsync();
                await ticking;
                await _deps.Runs.ReleaseAsync(_edition.Id, _leaseOwner, CancellationToken.None);
            }
        }
        finally
        {
            await afterStop.DisposeAsync();
            _unsettled.Dispose();
            _halt.Dispose();
            _inFlight.Dispose();
            _ticking.Dispose();
        }
    }

    /// <summary>
    /// Takes the edition's run record. While a living run holds it, waits for it to end; while a dead run's lease
    /// still runs, waits for it to lapse, then takes over that run's rows. False if not taken (stop, or not waiting).
    /// </summary>
    async Task<bool> AcquireAsync()
    {
        string? said = null;
        while (!_stop.IsCancellationRequested)
        {
            var now = Now;
            if (await _deps.Runs.TryAcquireAsync(_edition.Id, _leaseOwner, now, now + Lease, CancellationToken.None))
            {
                return true;
            }
            if (!_waitIfBusy || await _deps.Runs.HolderAsync(_edition.Id, CancellationToken.None) is not { } holder)
            {
                if (!_waitIfBusy)
                {
                    return false;
                }
                continue;
            }
            var rows = await _deps.Runs.HeldRowsAsync(_edition.Id, holder.Owner, CancellationToken.None);
            var wait = holder.LeaseUntil > now ? holder.LeaseUntil - now : TimeSpan.Zero;
            var status = Interrupted(holder, now)
                ? string.Create(CultureInfo.InvariantCulture,
                    $"waiting {Math.Ceiling(wait.TotalSeconds):0} s for {rows:N0} rows of an interrupted run ({holder.Describe()})")
                : string.Create(CultureInfo.InvariantCulture,
                    $"waiting for the send already running ({holder.Describe()}, {rows:N0} rows in flight); it sends them, this run then checks what is left");
            if (status != said)
            {
                _deps.Logger.LogInformation("{Month}: {Status}", _edition.Month, status);
                said = status;
            }
            Report(status);
            try
            {
                await Task.Delay(wait > TimeSpan.Zero && wait < TimeSpan.FromSeconds(1) ? wait : TimeSpan.FromSeconds(1), _deps.Clock, _stop);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        return false;
    }

    /// <summary>A holder that stopped its heartbeat, or whose process on this host is gone.</summary>
    bool Interrupted(EditionRunHolder holder, DateTimeOffset now)
    {
        if (now - holder.HeartbeatAt > 2 * HeartbeatEvery)
        {
            return true;
        }
        return holder.Host == Environment.MachineName && LocalProcess.Gone(holder.Pid);
    }

    /// <summary>
    /// Every second while the run works: a progress report (so a pause shows even when nothing is committed), and every
    /// third of the lease the heartbeat. A run that cannot renew before its lease lapses stops: another run may take over.
    /// </summary>
    async Task TickAsync()
    {
        var renewed = Now;
        var nextBeat = renewed + HeartbeatEvery;
        while (true)
        {
            try
            {
                await Task.Delay(HeartbeatEvery < TimeSpan.FromSeconds(1) ? HeartbeatEvery : TimeSpan.FromSeconds(1), _deps.Clock, _ticking.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Report();
            var now = Now;
            if (now < nextBeat)
            {
                continue;
            }
            nextBeat = now + HeartbeatEvery;
            try
            {
                if (!await _deps.Runs.RenewAsync(_edition.Id, _leaseOwner, now, now + Lease, CancellationToken.None))
                {
                    Halt(new DeliveryHaltedException(
                        $"Sending {_edition.Month} stopped: another run took the edition over (this run's heartbeat came after its lease lapsed). " +
                        $"See 'digest status {_edition.Month}'.", null));
                    return;
                }
                renewed = now;
            }
            catch (Exception e)
            {
                _deps.Logger.LogWarning(e, "Could not renew the lease on the {Month} edition", _edition.Month);
                if (now - renewed >= Lease - HeartbeatEvery)
                {
                    Halt(new DeliveryHaltedException(
                        $"Sending {_edition.Month} stopped: its lease could not be renewed ({e.Message}); another run may take over.", e));
                    return;
                }
            }
        }
    }

    async Task<SendResult> RunAsync()
    {
        // Passes until nothing is left to claim now: rows deferred in one pass and due already (a short retry interval)
        // go in the next. A pass that settled nothing (every row it claimed went back) ends it: nothing would change.
        long settled;
        do
        {
            settled = Settled;
            await PassAsync();
        }
        while (_fatal is null && !_halt.IsCancellationRequested && Settled > settled
               && await _deps.Ledger.CountClaimableAsync(_edition.Id, Now, CancellationToken.None) > 0);

        var editionSent = await _deps.Ledger.CompleteIfDoneAsync(_edition.Id, Now, CancellationToken.None);
        var nextRetry = await _deps.Ledger.NextDeferredAttemptAsync(_edition.Id, CancellationToken.None);
        var left = await _deps.Ledger.CountLeftAsync(_edition.Id, Now, CancellationToken.None);
        Report();

        if (_fatal is not null)
        {
            throw _fatal is DeliveryHaltedException ? _fatal : new DeliveryHaltedException(
                $"Sending {_edition.Month} stopped: {_fatal.Message}", _fatal);
        }
        if (_stop.IsCancellationRequested)
        {
            _stoppedBecause ??= "stopped on request";
        }
        return new SendResult(_edition.Month, _sent, _failed, _deferred, _skipped, _releasedCount, Elapsed,
            editionSent, nextRetry, _stoppedBecause, left);
    }

    long Settled => Interlocked.Read(ref _sent) + Interlocked.Read(ref _failed) + Interlocked.Read(ref _deferred) + Interlocked.Read(ref _skipped);

    async Task PassAsync()
    {
        _remaining = await _deps.Ledger.CountClaimableAsync(_edition.Id, Now, _stop);

        // The next batch is claimed when a quarter of one is left: ~20 ms of sending at full speed to claim it in.
        using var work = new ClaimedQueue(lowWater: Math.Max(_workers, _batchSize / 4));
        using var outcomes = new BlockingCollection<(ClaimedDelivery Row, DeliveryOutcome Outcome, SmtpFailure? Failure)>();

        var claimer = Task.Run(() => ClaimAsync(work));
        // A thread of its own per connection: the synchronous SMTP exchange blocks it, not the thread pool.
        var workers = Enumerable.Range(0, _workers).Select(_ => OnThreadOfItsOwn(() => Work(work, outcomes))).ToArray();
        // The writer too: waiting for outcomes on the thread pool woke a pool thread for every commit, and the pool's
        // idle threads spun between wake-ups.
        var writer = OnThreadOfItsOwn(() => Write(outcomes));

        await claimer;
        await Task.WhenAll(workers);
        outcomes.CompleteAdding();
        await writer;

        // Rows claimed but never attempted (a stop, an outage, a fatal error) go straight back to the queue.
        _released.AddRange(work.TakeLeft());
        _released.AddRange(_retryLater.TakeAll().Select(r => r.DeliveryId));
        Interlocked.Exchange(ref _inWork, 0);
        await _deps.Ledger.ReleaseAsync(_released, Now, CancellationToken.None);
        _releasedCount += _released.Count;
        _released.Clear();
    }

    DateTimeOffset Now => _deps.Clock.GetUtcNow();

    TimeSpan Elapsed => _deps.Clock.GetElapsedTime(_startTimestamp);

    /// <summary>Runs <paramref name="body"/> on a dedicated thread, not the thread pool: for loops that block.</summary>
    internal static Task OnThreadOfItsOwn(Action body) =>
        Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    async Task ClaimAsync(ClaimedQueue work)
    {
        try
        {
            while (!_halt.IsCancellationRequested)
            {
                var retries = _retryLater.TakeDue();
                work.Add(retries);
                var now = Now;
                var batch = await _deps.Ledger.ClaimAsync(_edition.Id, _leaseOwner, _batchSize, now, now + _deps.Options.LeaseDuration,
                    CancellationToken.None);
                if (batch.Count > 0 || retries.Count > 0)
                {
                    Interlocked.Add(ref _inWork, batch.Count);
                    work.Add(batch);
                    await work.WaitUntilLowAsync(_halt.Token);
                    continue;
                }
                if (Interlocked.Read(ref _inWork) == 0)
                {
                    return;
                }
                // The ledger has nothing more now, but rows in work may still come back for a retry: look again soon.
                var next = _retryLater.UntilNext() ?? RetryPoll;
                await Task.Delay(next < RetryPoll ? next : RetryPoll, _halt.Token);
            }
        }
        catch (OperationCanceledException) when (_halt.IsCancellationRequested)
        {
            // Halted while waiting to claim more: the rows still queued go back at the end of the run.
        }
        catch (Exception e)
        {
            Halt(e);
        }
        finally
        {
            work.Complete();
        }
    }

    void Work(ClaimedQueue work, BlockingCollection<(ClaimedDelivery, DeliveryOutcome, SmtpFailure?)> outcomes)
    {
        while (work.TryTake(out var row, _halt.Token))
        {
            try
            {
                _unsettled.Wait(_halt.Token);
            }
            catch (OperationCanceledException)
            {
                ReturnToQueue(row);
                return;
            }
            try
            {
                var (outcome, failure, retrying) = Deliver(row);
                if (retrying)
                {
                    _unsettled.Release();   // nothing was accepted: nothing a crash could send twice
                    continue;
                }
                if (outcome is null)
                {
                    _unsettled.Release();
                    ReturnToQueue(row);
                    continue;
                }
                // Unbounded, and completed only once every worker has ended: always taken.
                outcomes.Add((row, outcome, failure));
                Interlocked.Decrement(ref _inWork);
            }
            catch (Exception e)
            {
                _unsettled.Release();
                ReturnToQueue(row);
                Halt(e);
                return;
            }
        }
    }

    /// <summary>A claimed row never attempted goes back to the queue at the end of the run.</summary>
    void ReturnToQueue(ClaimedDelivery row)
    {
        lock (_released)
        {
            _released.Add(row.DeliveryId);
        }
        Interlocked.Decrement(ref _inWork);
    }

    /// <summary>
    /// One attempt at one row. Null outcome: not attempted after all (stopped), back to the queue; Retrying: held in
    /// <see cref="RetryLater"/> for another attempt in this run.
    /// </summary>
    (DeliveryOutcome? Outcome, SmtpFailure? Failure, bool Retrying) Deliver(ClaimedDelivery row)
    {
        if (row.Recipient is null || row.SubscriberStatus != SubscriberStatus.Confirmed)
        {
            var why = row.Recipient is null ? "the subscriber was deleted" : $"the subscriber is {row.SubscriberStatus}";
            return (Outcome(row, DeliveryState.Skipped, error: why), null, false);
        }

        MimeMessage? message;
        try
        {
            message = _messages.Compose(row.Recipient, row.ResendCount);
            Interlocked.Exchange(ref _composeFailuresInRow, 0);
        }
        catch (Exception e)
        {
            // Not the recipient's fault: the row stays pending for a run after the fix, never failed. Many in a row is a
            // bug that would hit the whole list: stop the run with it.
            _deps.Logger.LogError(e, "Could not compose the {Month} digest for subscriber {SubscriberId}", _edition.Month, row.Recipient.SubscriberId);
            if (Interlocked.Increment(ref _composeFailuresInRow) >= ComposeFailuresToStop)
            {
                throw new DeliveryHaltedException(
                    $"Sending {_edition.Month} stopped: composing the digest failed for {ComposeFailuresToStop} subscribers in a row " +
                    $"({e.GetType().Name}: {e.Message}). The rows stay pending; fix the cause (templates, content) and run 'digest send {_edition.Month}' again.", e);
            }
            return (null, null, false);
        }
        if (message is null)
        {
            return (Outcome(row, DeliveryState.Skipped, error: DeliveryReason.NoMatchingTopics), null, false);
        }

        // Disposed once its fate is known (retries included): its body's buffer goes back to the pool for the next one.
        using var settled = message;
        var attempts = new List<FailedAttempt>();
        try
        {
            var receipt = _deps.Resilience.Send(_deps.Transport, message, _inFlight.Token, attempts);
            return (Outcome(row, DeliveryState.Sent, reply: receipt.Reply, messageId: message.MessageId) with
            {
                Earlier = Earlier(row, attempts, attempts.Count, message.MessageId),
            }, null, false);
        }
        catch (OperationCanceledException) when (_inFlight.IsCancellationRequested)
        {
            return (null, null, false);
        }
        catch (Exception e) when (_deps.Resilience.OutageLongerThan(_deps.Options.StopAfterOutage) && _deps.Resilience.OutageSince is { } since)
        {
            // The relay has been down longer than the operator is willing to wait: stop, rows left pending, and say so.
            _stoppedBecause ??= string.Create(CultureInfo.InvariantCulture,
                $"the SMTP server has not answered since {LocalTime(since)} (Delivery:StopAfterOutage is {_deps.Options.StopAfterOutage}; last error: {SmtpFailure.Classify(e).Summary})");
            _halt.Cancel();
            return (null, null, false);
        }
        catch (Exception e)
        {
            var failure = SmtpFailure.Classify(e);
            if (failure.Kind == FailureKind.Transient && row.Retries < _deps.Options.RetryAttempts)
            {
                // Back off with the row, not the connection: it goes on with other rows meanwhile.
                _retryLater.Add(row with
                {
                    Retries = row.Retries + 1,
                    Earlier = Earlier(row, attempts, attempts.Count, message.MessageId),
                }, DeliveryResilience.Backoff(_deps.Options.RetryDelay, row.Retries + 1));
                return (null, failure, true);
            }
            // The last attempt is the outcome itself, unless the circuit refused the message before any attempt.
            var earlier = Earlier(row, attempts, e is BrokenCircuitException ? attempts.Count : attempts.Count - 1, message.MessageId);
            return failure.Kind switch
            {
                FailureKind.Fatal => throw new DeliveryHaltedException(FatalMessage(failure), e),
                FailureKind.Permanent => (Failed(row, failure, message.MessageId) with { Earlier = earlier }, failure, false),
                _ => (Deferred(row, failure, message.MessageId) with { Earlier = earlier }, failure, false),
            };
        }
    }

    /// <summary>The first <paramref name="count"/> failed attempts, retried within the run: history entries of their own.</summary>
    /// <summary>The row's earlier attempts and the first <paramref name="count"/> of <paramref name="attempts"/>.</summary>
    static IReadOnlyList<DeliveryOutcome>? Earlier(ClaimedDelivery row, List<FailedAttempt> attempts, int count, string? messageId) =>
        count <= 0 ? row.Earlier : [.. row.Earlier ?? [], .. attempts.Take(count).Select(a => new DeliveryOutcome(row.DeliveryId, row.ResendCount,
            DeliveryState.Deferred, a.At, SmtpCode: a.Failure.Code, EnhancedStatus: a.Failure.EnhancedStatus,
            Reply: a.Failure.Code is null ? null : a.Failure.Text, Error: "retried within the run: " + a.Failure.Summary, MessageId: messageId))];

    DeliveryOutcome Failed(ClaimedDelivery row, SmtpFailure failure, string? messageId, string? prefix = null) =>
        Outcome(row, DeliveryState.Failed, code: failure.Code, enhanced: failure.EnhancedStatus, reply: failure.Code is null ? null : failure.Text,
            error: prefix + failure.Summary, messageId: messageId);

    /// <summary>
    /// Retries within this run are used up: the row waits for a later run, longer each time (about double the time
    /// already spent), until Delivery:GiveUpAfter from its first attempt, when it fails.
    /// </summary>
    DeliveryOutcome Deferred(ClaimedDelivery row, SmtpFailure failure, string? messageId)
    {
        var now = Now;
        var first = row.FirstAttemptAt ?? now;
        var deadline = first + _deps.Options.GiveUpAfter;
        if (now >= deadline)
        {
            return Failed(row, failure, messageId, $"gave up after {_deps.Options.GiveUpAfter}: ");
        }
        var wait = TimeSpan.FromTicks(Math.Clamp((now - first).Ticks, _deps.Options.DeferredRetryInterval.Ticks, LongestDeferral.Ticks));
        var next = now + wait < deadline ? now + wait : deadline;
        return Outcome(row, DeliveryState.Deferred, next: next, code: failure.Code, enhanced: failure.EnhancedStatus,
            reply: failure.Code is null ? null : failure.Text, error: failure.Summary, messageId: messageId);
    }

    DeliveryOutcome Outcome(ClaimedDelivery row, string state, DateTimeOffset? next = null, int? code = null, string? enhanced = null,
        string? reply = null, string? error = null, string? messageId = null) =>
        new(row.DeliveryId, row.ResendCount, state, Now, next, code, enhanced, reply, error, messageId);

    string FatalMessage(SmtpFailure failure) =>
        $"Sending {_edition.Month} stopped: {failure.Summary}. Check Smtp:Host, Smtp:Port, Smtp:Security, Smtp:Username and " +
        $"Smtp:Password, then run 'digest send {_edition.Month}' again; nothing was marked failed.";

    void Write(BlockingCollection<(ClaimedDelivery Row, DeliveryOutcome Outcome, SmtpFailure? Failure)> outcomes)
    {
        var group = new List<(ClaimedDelivery Row, DeliveryOutcome Outcome, SmtpFailure? Failure)>();
        try
        {
            using var ledger = _deps.Ledger.OpenOutcomeWriter();
            while (outcomes.TryTake(out var first, Timeout.Infinite))
            {
                // A sleep, not a wait on the queue with a time-out: that spins first, on a machine whose other core
                // the relay may need. Then whatever is waiting, in one transaction (never more than the slots).
                Thread.Sleep(CommitGathering);
                group.Add(first);
                while (outcomes.TryTake(out var item))
                {
                    group.Add(item);
                }
                ledger.Record(group.Select(g => g.Outcome).ToList());
                _unsettled.Release(group.Count);
                foreach (var (row, outcome, failure) in group)
                {
                    Count(row.DeliveryId, outcome.State);
                    if (failure is { NoSuchUser: true } && row.Recipient is { } recipient)
                    {
                        // Rare, and asynchronous in signature only (SQLite): waiting for it on this thread costs nothing.
                        _deps.Subscribers.MarkBouncedAsync(recipient.SubscriberId, Bounce, $"{_edition.Month}: {failure.Summary}").GetAwaiter().GetResult();
                    }
                }
                group.Clear();
                Report();
            }
        }
        catch (Exception e)
        {
            Halt(e);
            // What is waiting is dropped: those rows stay 'sending' and come back after their lease.
            while (outcomes.TryTake(out _))
            {
            }
        }
    }

    /// <summary>Counts a row's outcome; a row deferred earlier in this run counts once, by its latest outcome. Writer thread only.</summary>
    void Count(long deliveryId, string state)
    {
        if (_deferredHere.Count > 0 && _deferredHere.Contains(deliveryId))
        {
            Interlocked.Decrement(ref _deferred);
            Interlocked.Increment(ref _remaining);
            _deferredHere.Remove(deliveryId);
        }
        if (state == DeliveryState.Deferred)
        {
            _deferredHere.Add(deliveryId);
        }
        switch (state)
        {
            case DeliveryState.Sent: Interlocked.Increment(ref _sent); break;
            case DeliveryState.Failed: Interlocked.Increment(ref _failed); break;
            case DeliveryState.Deferred: Interlocked.Increment(ref _deferred); break;
            default: Interlocked.Increment(ref _skipped); break;
        }
        Interlocked.Decrement(ref _remaining);
    }

    void Halt(Exception e)
    {
        if (Interlocked.CompareExchange(ref _fatal, e, null) is null && e is not DeliveryHaltedException)
        {
            _deps.Logger.LogError(e, "Sending {Month} stopped", _edition.Month);
        }
        _halt.Cancel();
    }

    void Report(string? status = null)
    {
        if (_progress is null)
        {
            return;
        }
        // The rate is this run's work: rows the enqueue settled took no time of the run and would inflate it.
        var processed = _sent + _failed + _deferred + _skipped - _skippedAtEnqueue;
        var seconds = Elapsed.TotalSeconds;
        var rate = seconds > 0 ? processed / seconds : 0;
        var remaining = Math.Max(0, _remaining);
        var paused = _deps.Resilience.Paused || _deps.Resilience.OutageSince is not null;
        if (status is null && _deps.Resilience.OutageSince is { } since)
        {
            status = $"paused: relay not answering since {LocalTime(since)}";
        }
        // No ETA while paused or waiting: a rate from before the pause says nothing about when it ends.
        var eta = rate > 0 && !paused && status is null ? TimeSpan.FromSeconds(remaining / rate) : (TimeSpan?)null;
        _progress.Report(new SendProgress(_edition.Month, _sent, _failed, _deferred, _skipped, remaining, rate, eta, paused, status));
    }

    string LocalTime(DateTimeOffset at) =>
        TimeZoneInfo.ConvertTime(at, _deps.Clock.LocalTimeZone).ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
