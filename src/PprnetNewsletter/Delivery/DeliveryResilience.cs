using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using MimeKit;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// The resilience pipeline every message goes through, shared by all workers so its circuit breaker and rate
/// limit see the whole send (Polly v8): retry with exponential back-off and jitter, outermost, so a retry also
/// waits out an open circuit; circuit breaker on server-level failures (refused, dropped, timed out, 421), which
/// pauses every worker while the server is down; global rate limit Smtp:MessagesPerSecond; per-attempt time-out
/// Smtp:Timeout.
/// </summary>
public sealed class DeliveryResilience : IDisposable
{
    readonly CircuitBreakerStateProvider _circuit = new();
    readonly RateLimiter? _limiter;

    public DeliveryResilience(IOptions<SmtpOptions> smtp, IOptions<DeliveryOptions> delivery, TimeProvider clock, ILogger<DeliveryResilience> logger)
    {
        var o = delivery.Value;
        // Typed to the receipt: a pipeline without a result type would wrap each strategy in a bridge per message.
        var builder = new ResiliencePipelineBuilder<DeliveryReceipt> { TimeProvider = clock };
        builder.AddRetry(new RetryStrategyOptions<DeliveryReceipt>
        {
            ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome.Exception, args.Context, o.RetryAttempts)),
            // Attempts are counted by ShouldRetry: waiting out an open circuit costs a message none of its own.
            MaxRetryAttempts = int.MaxValue,
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                args.Outcome.Exception is BrokenCircuitException { RetryAfter: { } after }
                    ? after
                    : Backoff(o.RetryDelay, args.Context.Properties.GetValue(Failures, 1))),
            OnRetry = args =>
            {
                logger.LogDebug("Retrying in {Delay}: {Failure}", args.RetryDelay,
                    args.Outcome.Exception is { } e ? SmtpFailure.Classify(e).Summary : "");
                return ValueTask.CompletedTask;
            },
        });
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<DeliveryReceipt>
        {
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && SmtpFailure.Classify(e).ConnectionLevel),
            FailureRatio = 0.5,
            MinimumThroughput = Math.Max(2, smtp.Value.MaxConnections),
            SamplingDuration = TimeSpan.FromSeconds(10),
            BreakDuration = o.CircuitBreakDuration,
            StateProvider = _circuit,
            OnOpened = args =>
            {
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
        if (smtp.Value.MessagesPerSecond > 0)
        {
            _limiter = CreateLimiter(smtp.Value.MessagesPerSecond);
            builder.AddRateLimiter(_limiter);
        }
        builder.AddTimeout(smtp.Value.Timeout);
        _pipeline = builder.Build();
    }

    static readonly ResiliencePropertyKey<int> Failures = new("delivery-failures");

    readonly ResiliencePipeline<DeliveryReceipt> _pipeline;

    /// <summary>
    /// Sends one message through the pipeline (time-out, rate limit, circuit breaker and retries) on the calling
    /// thread: a connection's own thread, which the waits of a back-off or an open circuit hold as well.
    /// </summary>
    public DeliveryReceipt Send(IMailTransport transport, MimeMessage message, CancellationToken ct)
    {
        var context = ResilienceContextPool.Shared.Get(ct);
        try
        {
            return _pipeline.Execute(static (context, state) => state.transport.Send(state.message, context.CancellationToken),
                context, (transport, message));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// Retry a transient failure up to <paramref name="retries"/> times for this message, and an open circuit as
    /// long as it stays open (the pause of the whole send while the server is down).
    /// </summary>
    static bool ShouldRetry(Exception? e, ResilienceContext context, int retries)
    {
        if (e is BrokenCircuitException)
        {
            return true;
        }
        if (e is null || SmtpFailure.Classify(e).Kind != FailureKind.Transient)
        {
            return false;
        }
        var failures = context.Properties.GetValue(Failures, 0) + 1;
        context.Properties.Set(Failures, failures);
        return failures <= retries;
    }

    /// <summary>Exponential back-off with jitter: base × 2^(n-1), each delay spread ±25% so workers do not retry in step.</summary>
    static TimeSpan Backoff(TimeSpan first, int failure) =>
        first * Math.Pow(2, failure - 1) * (0.75 + (Random.Shared.NextDouble() / 2));

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
