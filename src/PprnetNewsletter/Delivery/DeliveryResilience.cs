using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using MimeKit;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace PprnetNewsletter.Delivery;

/// <summary>One attempt that failed, for the delivery_attempts history.</summary>
public sealed record FailedAttempt(DateTimeOffset At, SmtpFailure Failure);

/// <summary>
/// The resilience pipeline every message goes through, shared by all workers so its circuit breaker and rate limit
/// see the whole send (Polly v8): circuit breaker on transient failures (refused, dropped, timed out, 4xx), which
/// pauses every worker while the relay is down or refusing, waited out by the outer retry until
/// Delivery:StopAfterOutage; with the pickup directory, rate limit Smtp:MessagesPerSecond and per-attempt time-out
/// Smtp:Timeout (through a relay, <see cref="RelayGate"/> and <see cref="SmtpTransport"/> apply those). A failed
/// attempt is not retried here: the run holds the row for a later attempt (RetryLater), and the connection goes on.
/// </summary>
public sealed class DeliveryResilience : IDisposable
{
    readonly CircuitBreakerStateProvider _circuit = new();
    readonly RateLimiter? _limiter;
    readonly TimeProvider _clock;
    readonly TimeSpan _attemptTimeout;

    public DeliveryResilience(IOptions<SmtpOptions> smtp, IOptions<DeliveryOptions> delivery, TimeProvider clock, ILogger<DeliveryResilience> logger)
    {
        var o = delivery.Value;
        _clock = clock;
        _attemptTimeout = smtp.Value.Timeout;
        // Typed to the receipt: a pipeline without a result type would wrap each strategy in a bridge per message.
        var builder = new ResiliencePipelineBuilder<DeliveryReceipt> { TimeProvider = clock };
        builder.AddRetry(new RetryStrategyOptions<DeliveryReceipt>
        {
            // Only an open circuit is waited out here (the whole send pauses); a failed attempt comes back to the run,
            // which holds the row for a later attempt and goes on with others (RetryLater).
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is BrokenCircuitException && !OutageLongerThan(o.StopAfterOutage)),
            MaxRetryAttempts = int.MaxValue,
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                args.Outcome.Exception is BrokenCircuitException { RetryAfter: { } after } ? after : o.CircuitBreakDuration),
            OnRetry = args =>
            {
                logger.LogDebug("Retrying in {Delay}: {Failure}", args.RetryDelay,
                    args.Outcome.Exception is { } e ? SmtpFailure.Classify(e).Summary : "");
                return ValueTask.CompletedTask;
            },
        });
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<DeliveryReceipt>
        {
            // Every transient failure counts, 4xx replies included: a relay answering 4xx to half of the messages or
            // more is refusing the send, not one recipient, and deferring the whole list would be wrong.
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && SmtpFailure.Classify(e).Kind == FailureKind.Transient),
            FailureRatio = 0.5,
            MinimumThroughput = Math.Max(2, smtp.Value.MaxConnections),
            SamplingDuration = TimeSpan.FromSeconds(10),
            BreakDuration = o.CircuitBreakDuration,
            StateProvider = _circuit,
            OnOpened = args =>
            {
                // A relay refusing most messages is as good as down: StopAfterOutage counts from here too.
                Interlocked.CompareExchange(ref _outageSinceTicks, clock.GetUtcNow().UtcTicks, 0);
                logger.LogWarning("The SMTP server keeps failing ({Failure}); sending paused for {Duration}",
                    args.Outcome.Exception is { } e ? SmtpFailure.Classify(e).Summary : "", args.BreakDuration);
                return ValueTask.CompletedTask;
            },
            OnClosed = _ =>
            {
                logger.LogInformation("The SMTP server answers again; sending resumed");
                return ValueTask.CompletedTask;
            },
        });
        // Through a relay, the rate and the per-attempt time-out are the transport's: its gate shares the rate with every
        // process on the database, and a message waiting for its turn there is not timing out (RelayGate, SmtpTransport).
        // Into the pickup directory they stay here, for this process alone.
        if (smtp.Value.UsesPickupDirectory)
        {
            if (smtp.Value.MessagesPerSecond > 0)
            {
                _limiter = CreateLimiter(smtp.Value.MessagesPerSecond);
                builder.AddRateLimiter(_limiter);
            }
            builder.AddTimeout(smtp.Value.Timeout);
        }
        _pipeline = builder.Build();
    }

    readonly ResiliencePipeline<DeliveryReceipt> _pipeline;

    /// <summary>
    /// Sends one message through the pipeline (time-out, rate limit, circuit breaker and retries) on the calling
    /// thread: a connection's own thread, which the waits of a back-off or an open circuit hold as well.
    /// </summary>
    /// <param name="failedAttempts">Receives every attempt that failed (in-run retries included), for the ledger's history.</param>
    public DeliveryReceipt Send(IMailTransport transport, MimeMessage message, CancellationToken ct, List<FailedAttempt>? failedAttempts = null)
    {
        var context = ResilienceContextPool.Shared.Get(ct);
        try
        {
            return _pipeline.Execute(static (context, state) =>
            {
                try
                {
                    var receipt = state.transport.Send(state.message, context.CancellationToken);
                    Interlocked.Exchange(ref state.self._outageSinceTicks, 0);
                    return receipt;
                }
                catch (Exception e) when (e is not OperationCanceledException || !state.ct.IsCancellationRequested)
                {
                    // Cut off by the per-attempt time-out (not by a stop): an attempt all the same, recorded as timed out.
                    var failure = SmtpFailure.Classify(e is OperationCanceledException
                        ? new TimeoutException($"no answer within {state.self._attemptTimeout}", e) : e);
                    state.failedAttempts?.Add(new FailedAttempt(state.self._clock.GetUtcNow(), failure));
                    if (failure.ConnectionLevel)
                    {
                        Interlocked.CompareExchange(ref state.self._outageSinceTicks, state.self._clock.GetUtcNow().UtcTicks, 0);
                    }
                    throw;
                }
            }, context, (transport, message, self: this, failedAttempts, ct));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>True once the relay has not answered for <paramref name="limit"/> (Delivery:StopAfterOutage): the run stops.</summary>
    public bool OutageLongerThan(TimeSpan limit) => OutageSince is { } since && _clock.GetUtcNow() - since >= limit;

    /// <summary>The clock that times back-offs and the breaker's pauses.</summary>
    internal TimeProvider Clock => _clock;

    /// <summary>Exponential back-off with jitter: base × 2^(n-1), each delay spread ±25% so workers do not retry in step.</summary>
    internal static TimeSpan Backoff(TimeSpan first, int failure) =>
        first * Math.Pow(2, failure - 1) * (0.75 + (Random.Shared.NextDouble() / 2));

    /// <summary>
    /// When the relay stopped answering: the first connection-level failure (refused, dropped, timed out, 421) since
    /// the last message it accepted. Null while it answers.
    /// </summary>
    public DateTimeOffset? OutageSince => Interlocked.Read(ref _outageSinceTicks) is var t and > 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;

    long _outageSinceTicks;

    /// <summary>
    /// Forgets an outage seen earlier: a run starts with a clean slate, so a relay that failed at the end of last
    /// month's run (and was never tried since) does not count as down since then.
    /// </summary>
    public void ForgetOutage() => Interlocked.Exchange(ref _outageSinceTicks, 0);

    /// <summary>True while the circuit is open: the send is paused until the server answers.</summary>
    public bool Paused => _circuit.CircuitState is CircuitState.Open or CircuitState.Isolated;

    /// <summary>
    /// A token bucket refilled every 100 ms (or once per message, below 10 a second): smooth enough that no second
    /// holds more than the rate plus one refill, coarse enough for the timer. Callers queue rather than fail.
    /// </summary>
    static TokenBucketRateLimiter CreateLimiter(int perSecond)
    {
        var period = perSecond >= 10 ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(1.0 / perSecond);
        var tokens = Math.Max(1, (int)Math.Round(perSecond * period.TotalSeconds));
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = tokens,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    public void Dispose() => _limiter?.Dispose();
}
