using Microsoft.Extensions.Options;
using MimeKit;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// Single emails, worked by the <see cref="DeliveryWorker"/> on a loop of its own: claims due rows of the mail queue,
/// sends each through the mail transport, and settles it: sent; failed on a permanent refusal or after Delivery:GiveUpAfter; otherwise pending again after a
/// wait that doubles from Delivery:RetryDelay up to <see cref="LongestWait"/>, so an email goes out within moments
/// of the relay coming back.
/// </summary>
public sealed class MailQueueSender(
    MailQueue queue, IMailTransport transport, TimeProvider clock, IOptions<DeliveryOptions> delivery, IOptions<SmtpOptions> smtp,
    ILogger<MailQueueSender> logger)
{
    /// <summary>The longest wait between two attempts at one email.</summary>
    internal static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(30);

    /// <summary>How often the queue is looked at when nothing was enqueued in this process.</summary>
    static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    // Names this process on the rows it holds; another process takes them over only once their lease lapsed.
    readonly long _owner = Random.Shared.NextInt64(1, long.MaxValue);

    /// <summary>Sends what the queue holds, as it comes, until <paramref name="stoppingToken"/>.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        // Off the caller's thread: the first claim may run synchronously (SQLite).
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            IReadOnlyList<QueuedMail> due = [];
            try
            {
                due = await queue.ClaimDueAsync(_owner, delivery.Value.LeaseDuration, limit: 16, stoppingToken);
                foreach (var mail in due)
                {
                    await DeliverAsync(mail, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;   // rows held go back to work when their lease lapses
            }
            catch (Exception e)
            {
                // The database was busy or failing: logged, and tried again at the next poll.
                logger.LogError(e, "The mail queue could not be worked on");
            }
            if (due.Count == 0)
            {
                try
                {
                    await queue.WaitForWorkAsync(Poll, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    async Task DeliverAsync(QueuedMail mail, CancellationToken stop)
    {
        using var message = MimeMessage.Load(new MemoryStream(mail.Message, writable: false), stop);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stop);
        attempt.CancelAfter(smtp.Value.Timeout);
        try
        {
            await transport.SendAsync(message, attempt.Token);
            await queue.SettleAsync(mail.Id, "sent", null, null, CancellationToken.None);
            logger.LogInformation("Sent the {Kind} email {Id} (attempt {Attempts})", mail.Kind, mail.Id, mail.Attempts);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The service is stopping: the email goes back to the queue for the next start (not left to its lease).
            await queue.SettleAsync(mail.Id, "pending", clock.GetUtcNow(), "interrupted by a shutdown", CancellationToken.None);
            throw;
        }
        catch (Exception e)
        {
            var failure = SmtpFailure.Classify(e);
            var now = clock.GetUtcNow();
            if (failure.Kind == FailureKind.Permanent || now - mail.CreatedAt >= delivery.Value.GiveUpAfter)
            {
                logger.LogError("The {Kind} email {Id} failed for good: {Failure}", mail.Kind, mail.Id, failure.Summary);
                await queue.SettleAsync(mail.Id, "failed", null, failure.Summary, CancellationToken.None);
                return;
            }
            var wait = Wait(delivery.Value.RetryDelay, (int)mail.Attempts);
            // A refused login or TLS stays refused until someone fixes Smtp:*; it is retried all the same (the email
            // is not the problem), and logged as an error so that someone does.
            logger.Log(failure.Kind == FailureKind.Fatal ? LogLevel.Error : LogLevel.Warning,
                "The {Kind} email {Id} was not sent ({Failure}); trying again in {Wait}", mail.Kind, mail.Id, failure.Summary, wait);
            await queue.SettleAsync(mail.Id, "pending", now + wait, failure.Summary, CancellationToken.None);
        }
    }

    /// <summary>first × 2^(attempts-1), at most <see cref="LongestWait"/>.</summary>
    internal static TimeSpan Wait(TimeSpan first, int attempts) =>
        TimeSpan.FromTicks((long)Math.Min(LongestWait.Ticks, first.Ticks * Math.Pow(2, Math.Clamp(attempts - 1, 0, 30))));
}
