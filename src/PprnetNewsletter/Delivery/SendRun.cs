using System.Collections.Concurrent;
using MimeKit;
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
    bool Paused);

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
    string? StoppedBecause)
{
    public long Processed => Sent + Failed + Deferred + Skipped;
}

/// <summary>
/// One pass of the engine over an edition's ledger: a claimer leases batches of rows, workers (one per SMTP
/// connection, each on a thread of its own) compose and send, and a single writer, on a thread of its own too,
/// commits the outcomes within milliseconds of the server's reply, in groups. A crash at any moment loses nothing:
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

    /// <summary>
    /// Rows in work or not yet committed, per connection: the most a crash can send twice. One is on the wire; the
    /// others cover the outcomes gathering for the next commit (<see cref="CommitGathering"/>, about two messages'
    /// worth at full speed) and a commit slowed by a checkpoint (~10 ms). Commits that keep up never hold a connection
    /// back; a writer that falls behind (a slow disk, another process holding the database) holds the sending back
    /// instead of piling up sends that a crash would repeat.
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
    readonly long _startTimestamp;
    // Names this run on the rows it leases, so it never claims back its own rows whose lease ran out while queued.
    readonly long _leaseOwner = Random.Shared.NextInt64(1, long.MaxValue);
    readonly int _workers;
    readonly int _batchSize;
    readonly SemaphoreSlim _unsettled;
    readonly List<long> _released = [];
    readonly long _skippedAtEnqueue;
    long _remaining, _sent, _failed, _deferred, _skipped;
    int _consecutiveServerFailures;
    Exception? _fatal;
    string? _stoppedBecause;

    /// <param name="skippedAtEnqueue">Rows this run's enqueue settled as skipped: counted in its result and progress.</param>
    public SendRun(EditionSender.Dependencies deps, EditionInfo edition, IEditionMessages messages, long skippedAtEnqueue,
        IProgress<SendProgress>? progress, CancellationToken stop)
    {
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

    public async Task<SendResult> ExecuteAsync()
    {
        var afterStop = _stop.Register(() => _inFlight.CancelAfter(InFlightGrace));
        try
        {
            return await RunAsync();
        }
        finally
        {
            await afterStop.DisposeAsync();
            _unsettled.Dispose();
            _halt.Dispose();
            _inFlight.Dispose();
        }
    }

    async Task<SendResult> RunAsync()
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
        await _deps.Ledger.ReleaseAsync(_released, Now, CancellationToken.None);
        var editionSent = await _deps.Ledger.CompleteIfDoneAsync(_edition.Id, Now, CancellationToken.None);
        var nextRetry = await _deps.Ledger.NextDeferredAttemptAsync(_edition.Id, CancellationToken.None);
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
        return new SendResult(_edition.Month, _sent, _failed, _deferred, _skipped, _released.Count, Elapsed,
            editionSent, nextRetry, _stoppedBecause);
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
                var now = Now;
                var batch = await _deps.Ledger.ClaimAsync(_edition.Id, _leaseOwner, _batchSize, now, now + _deps.Options.LeaseDuration,
                    CancellationToken.None);
                if (batch.Count == 0)
                {
                    return;
                }
                work.Add(batch);
                await work.WaitUntilLowAsync(_halt.Token);
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
                var (outcome, failure) = Deliver(row);
                if (outcome is null)
                {
                    _unsettled.Release();
                    ReturnToQueue(row);
                    continue;
                }
                // Unbounded, and completed only once every worker has ended: always taken.
                outcomes.Add((row, outcome, failure));
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
    }

    /// <summary>One attempt at one row. Null outcome: not attempted after all (stopped), back to the queue.</summary>
    (DeliveryOutcome? Outcome, SmtpFailure? Failure) Deliver(ClaimedDelivery row)
    {
        if (row.Recipient is null || row.SubscriberStatus != SubscriberStatus.Confirmed)
        {
            var why = row.Recipient is null ? "the subscriber was deleted" : $"the subscriber is {row.SubscriberStatus}";
            return (Outcome(row, DeliveryState.Skipped, error: why), null);
        }

        MimeMessage? message;
        try
        {
            message = _messages.Compose(row.Recipient, row.ResendCount);
        }
        catch (Exception e)
        {
            _deps.Logger.LogError(e, "Could not compose the {Month} digest for subscriber {SubscriberId}", _edition.Month, row.Recipient.SubscriberId);
            return (Outcome(row, DeliveryState.Failed, error: $"could not compose the message: {e.Message}"), null);
        }
        if (message is null)
        {
            return (Outcome(row, DeliveryState.Skipped, error: DeliveryLedger.NoMatchingTopics), null);
        }

        // Disposed once its fate is known (retries included): its body's buffer goes back to the pool for the next one.
        using var settled = message;
        try
        {
            var receipt = _deps.Resilience.Send(_deps.Transport, message, _inFlight.Token);
            Interlocked.Exchange(ref _consecutiveServerFailures, 0);
            return (Outcome(row, DeliveryState.Sent, reply: receipt.Reply, messageId: message.MessageId), null);
        }
        catch (OperationCanceledException) when (_inFlight.IsCancellationRequested)
        {
            return (null, null);
        }
        catch (Exception e)
        {
            var failure = SmtpFailure.Classify(e);
            return failure.Kind switch
            {
                FailureKind.Fatal => throw new DeliveryHaltedException(FatalMessage(failure), e),
                FailureKind.Permanent => (Failed(row, failure, message.MessageId), failure),
                _ => (Deferred(row, failure, message.MessageId), failure),
            };
        }
    }

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
        if (failure.ConnectionLevel && Interlocked.Increment(ref _consecutiveServerFailures) >= Math.Max(4, 2 * _workers))
        {
            // The server stayed down through the circuit breaker's pauses: stop burning through the list; the
            // rows left stay queued for the periodic retry.
            _stoppedBecause = $"the SMTP server is not answering ({failure.Summary})";
            _halt.Cancel();
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
                    Count(outcome.State);
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

    void Count(string state)
    {
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

    void Report()
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
        _progress.Report(new SendProgress(_edition.Month, _sent, _failed, _deferred, _skipped, remaining, rate,
            rate > 0 ? TimeSpan.FromSeconds(remaining / rate) : null, _deps.Resilience.Paused));
    }
}
