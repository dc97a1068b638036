using System.Collections.Concurrent;
using PprnetNewsletter.Delivery;

namespace PprnetNewsletter.Admin;

/// <summary>What a send started from the admin API is doing, or how it ended.</summary>
public sealed record SendJobView(string Month, string Kind, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string? Outcome, string? Error)
{
    public bool Running => FinishedAt is null;
}

/// <summary>
/// Sends and resends started over HTTP run in the background (an edition can take minutes), one at a time per
/// edition; the request answers 202 at once with the URL of the edition's status. A run stopped by shutdown is
/// finished by the engine's own resume (the ledger keeps every row), so nothing is lost.
/// </summary>
public sealed class SendJobs(EditionSender sender, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<SendJobs> logger)
{
    readonly ConcurrentDictionary<string, SendJobView> _jobs = new();

    public SendJobView? Last(string month) => _jobs.GetValueOrDefault(month);

    /// <summary>Starts <paramref name="work"/> unless a job for the month is running; false then.</summary>
    public bool TryStart(string month, string kind, Func<EditionSender, CancellationToken, Task<string>> work)
    {
        var job = new SendJobView(month, kind, time.GetUtcNow(), null, null, null);
        var added = _jobs.AddOrUpdate(month, job, (_, current) => current.Running ? current : job);
        if (!ReferenceEquals(added, job))
        {
            return false;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                var outcome = await work(sender, lifetime.ApplicationStopping);
                _jobs[month] = job with { FinishedAt = time.GetUtcNow(), Outcome = outcome };
            }
            catch (Exception e)
            {
                logger.LogError(e, "{Kind} of {Month} started from the admin API failed", kind, month);
                _jobs[month] = job with { FinishedAt = time.GetUtcNow(), Error = e.Message };
            }
        });
        return true;
    }
}
