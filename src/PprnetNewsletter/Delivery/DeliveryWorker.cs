using System.Threading.Channels;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// The one owner of every send in the process. Starters (the schedule, the retry job, the admin API, the dashboard, the
/// command line) put requests on its channel and await the job it gives back, or return at once; the worker runs each
/// edition's jobs one after the other and different editions side by side, as tasks it owns and awaits, and works the
/// queue of single emails on a loop of its own beside them, so a confirmation never waits for a long edition.
/// Stopping it (the host's stop, or Ctrl+C of a verb) stops every run: messages in flight finish or are cut off,
/// outcomes are committed, claimed rows go back to pending and the edition's run record is given back.
/// </summary>
public sealed class DeliveryWorker(
    EditionSender sender, IDeliveryStore ledger, MailQueueSender singleEmails, IHostApplicationLifetime lifetime, TimeProvider clock,
    ILogger<DeliveryWorker> logger) : BackgroundService
{
    readonly Channel<DeliveryJob> _requests = Channel.CreateUnbounded<DeliveryJob>(new UnboundedChannelOptions { SingleReader = true });
    readonly Lock _lock = new();
    // The newest job of each edition, finished or not: the job a new request joins or waits for, and the dashboard's view.
    readonly Dictionary<string, DeliveryJob> _newest = [];

    /// <summary>
    /// Submits <paramref name="request"/>: joins the edition's job if it does the same work, otherwise queues a job that
    /// runs once the edition's current one has ended. <paramref name="progress"/> gets the engine's progress. After the
    /// worker has stopped, the job is cancelled at once.
    /// </summary>
    public DeliveryJob Submit(DeliveryRequest request, IProgress<SendProgress>? progress = null)
    {
        DeliveryJob job;
        lock (_lock)
        {
            var current = Current(request.Month);
            if (current is not null && current.Request.SameWorkAs(request))
            {
                current.Watch(progress);
                return current;
            }
            job = Queue(request, current, unwatched: false, progress);
        }
        Post(job);
        return job;
    }

    /// <summary>
    /// Starts <paramref name="request"/> unless a job of its edition is queued or running in this process (null then):
    /// what the admin API and the dashboard do, answering at once.
    /// </summary>
    public DeliveryJob? TryStart(DeliveryRequest request)
    {
        DeliveryJob job;
        lock (_lock)
        {
            if (Current(request.Month) is not null)
            {
                return null;
            }
            job = Queue(request, null, unwatched: true, null);
        }
        Post(job);
        return job;
    }

    /// <summary>The newest job of the edition of <paramref name="month"/>, running or ended; null if none since the start.</summary>
    public SendJobView? Last(string month)
    {
        lock (_lock)
        {
            return _newest.GetValueOrDefault(month)?.View;
        }
    }

    /// <summary>
    /// The retry job: resumes every started edition with rows to work on now (deferred and due, or left by a run that
    /// died) that no job of this process is working on, and waits for those resumes.
    /// </summary>
    public async Task<IReadOnlyList<SendResult>> ResumeDueAsync(CancellationToken ct)
    {
        var jobs = new List<DeliveryJob>();
        foreach (var month in await ledger.EditionsWithDueWorkAsync(clock.GetUtcNow(), ct))
        {
            // An edition with a job here is being worked on already; the job comes back in a minute anyway.
            if (TryStart(DeliveryRequest.Resume(month)) is { } job)
            {
                jobs.Add(job);
            }
        }
        var results = await Task.WhenAll(jobs.Select(j => j.Completion)).WaitAsync(ct);
        return [.. results.Select(r => r.Run).OfType<SendResult>()];
    }

    /// <summary>
    /// Runs <paramref name="request"/> to its end for a verb of the command line. A verb's host starts no hosted
    /// service, so the worker is started here and stopped at the end; on <paramref name="ct"/> (Ctrl+C) the stop ends
    /// the run as the service's shutdown does, and the result says that it stopped.
    /// </summary>
    public async Task<DeliveryJobResult> RunAsync(DeliveryRequest request, IProgress<SendProgress>? progress, CancellationToken ct)
    {
        var startedHere = ExecuteTask is null;
        if (startedHere)
        {
            await StartAsync(CancellationToken.None);
        }
        Task<DeliveryJobResult> completion;
        try
        {
            completion = Submit(request, progress).Completion;
            try
            {
                await completion.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested && startedHere)
            {
                // Ctrl+C: the stop below ends the run, and its result is awaited after it.
            }
        }
        finally
        {
            if (startedHere)
            {
                await StopAsync(CancellationToken.None);
            }
        }
        return await completion;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The host's stop begins with ApplicationStopping, before the scheduler (which waits for its jobs, and they for
        // this worker's) is stopped: the runs stop from that moment.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStopping);
        var mail = singleEmails.RunAsync(stop.Token);
        var running = new List<Task>();
        try
        {
            await foreach (var job in _requests.Reader.ReadAllAsync(stop.Token))
            {
                running.RemoveAll(t => t.IsCompleted);
                running.Add(RunJobAsync(job, stop.Token));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopping: the runs below are stopping too.
        }
        finally
        {
            _requests.Writer.TryComplete();
            while (_requests.Reader.TryRead(out var never))
            {
                never.Cancel(clock.GetUtcNow());
            }
            await Task.WhenAll(running);
            await mail;
        }
    }

    async Task RunJobAsync(DeliveryJob job, CancellationToken stop)
    {
        // Off the loop that reads the channel: preparing an edition (templates, content) takes a while.
        await Task.Yield();
        if (job.After is { } previous)
        {
            // Whatever became of the edition's previous job (its starter learns of it), this one runs after it.
            await Task.WhenAny(previous.Completion);
        }
        if (stop.IsCancellationRequested)
        {
            job.Cancel(clock.GetUtcNow());
            return;
        }
        var (work, month) = (job.Request.Work, job.Request.Month);
        try
        {
            var result = work switch
            {
                DeliveryWork.Send => new DeliveryJobResult(await sender.SendAsync(month, job, stop)),
                DeliveryWork.Resend => await ResendAsync(job, stop),
                _ => new DeliveryJobResult(await sender.ResumeAsync(month, stop)),
            };
            job.Succeed(result, clock.GetUtcNow());
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            job.Cancel(clock.GetUtcNow());
        }
        catch (Exception e)
        {
            // Whoever awaits the job gets the exception (a verb prints it); a job whose starter answered at once has only
            // its view to show it, so it is logged too.
            if (job.Unwatched)
            {
                logger.LogError(e, "{Kind} of {Month} ({StartedBy}) failed", job.Request.Kind, month, job.Request.StartedBy);
            }
            job.Fail(e, clock.GetUtcNow());
        }
    }

    async Task<DeliveryJobResult> ResendAsync(DeliveryJob job, CancellationToken stop)
    {
        var result = await sender.ResendAsync(job.Request.Month, job.Request.Resend!, job, stop);
        return new DeliveryJobResult(result.Send, result.Queued, result.LeftFailed);
    }

    /// <summary>The edition's job that is queued or running, if any. Under the lock.</summary>
    DeliveryJob? Current(string month) => _newest.GetValueOrDefault(month) is { Finished: false } job ? job : null;

    /// <summary>Under the lock.</summary>
    DeliveryJob Queue(DeliveryRequest request, DeliveryJob? after, bool unwatched, IProgress<SendProgress>? progress)
    {
        var job = new DeliveryJob(request, after, unwatched, clock.GetUtcNow());
        job.Watch(progress);
        _newest[request.Month] = job;
        return job;
    }

    void Post(DeliveryJob job)
    {
        // Unbounded: refused only once the worker has stopped, and then the job never runs.
        if (!_requests.Writer.TryWrite(job))
        {
            job.Cancel(clock.GetUtcNow());
        }
    }
}
