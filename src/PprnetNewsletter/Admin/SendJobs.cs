using System.Collections.Concurrent;
using System.Threading.Channels;
using PprnetNewsletter.Delivery;

namespace PprnetNewsletter.Admin;

/// <summary>What a send started from the admin API is doing, or how it ended.</summary>
public sealed record SendJobView(string Month, string Kind, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string? Outcome, string? Error)
{
    public bool Running => FinishedAt is null;
}

/// <summary>
/// Sends and resends started over HTTP, run by this owned background worker one after the other (an edition can take
/// minutes); the request answers 202 at once with the URL of the edition's status. A run stopped by shutdown is
/// finished by the engine's own resume (the ledger keeps every row), so nothing is lost.
/// </summary>
public sealed class SendJobs(EditionSender sender, TimeProvider time, ILogger<SendJobs> logger) : BackgroundService
{
    readonly ConcurrentDictionary<string, SendJobView> _jobs = new();
    readonly Channel<(SendJobView Job, Func<EditionSender, CancellationToken, Task<string>> Work)> _queue =
        Channel.CreateUnbounded<(SendJobView, Func<EditionSender, CancellationToken, Task<string>>)>(new UnboundedChannelOptions { SingleReader = true });

    public SendJobView? Last(string month) => _jobs.GetValueOrDefault(month);

    /// <summary>Queues <paramref name="work"/> unless a job for the month is queued or running; false then.</summary>
    public bool TryStart(string month, string kind, Func<EditionSender, CancellationToken, Task<string>> work)
    {
        var job = new SendJobView(month, kind, time.GetUtcNow(), null, null, null);
        var added = _jobs.AddOrUpdate(month, job, (_, current) => current.Running ? current : job);
        if (!ReferenceEquals(added, job))
        {
            return false;
        }
        // Unbounded: always written.
        _queue.Writer.TryWrite((job, work));
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (job, work) in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    var outcome = await work(sender, stoppingToken);
                    _jobs[job.Month] = job with { FinishedAt = time.GetUtcNow(), Outcome = outcome };
                }
                catch (Exception e)
                {
                    logger.LogError(e, "{Kind} of {Month} started from the admin API failed", job.Kind, job.Month);
                    _jobs[job.Month] = job with { FinishedAt = time.GetUtcNow(), Error = e.Message };
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: queued jobs are dropped; the ledger keeps their rows for the retry job or the next send.
        }
    }
}
