namespace PprnetNewsletter.Delivery;

/// <summary>What a starter asks of the delivery worker.</summary>
public enum DeliveryWork
{
    /// <summary>Send the edition: start it if it is a draft, then work through every row that needs it.</summary>
    Send,

    /// <summary>One of the three resends (<see cref="DeliveryRequest.Resend"/>), then run the engine over it.</summary>
    Resend,

    /// <summary>The retry job: work the edition's due rows, unless another run holds it.</summary>
    Resume,
}

/// <summary>
/// A request to the delivery worker. <see cref="StartedBy"/> (the schedule, the retry job, the admin API, the dashboard,
/// the command line) is shown in the job's view; two requests that differ only by it ask for the same work.
/// </summary>
public sealed record DeliveryRequest(DeliveryWork Work, string Month, string StartedBy, ResendRequest? Resend = null)
{
    public static DeliveryRequest Send(string month, string startedBy) => new(DeliveryWork.Send, month, startedBy);

    public static DeliveryRequest ResendOf(string month, ResendRequest resend, string startedBy) => new(DeliveryWork.Resend, month, startedBy, resend);

    public static DeliveryRequest Resume(string month) => new(DeliveryWork.Resume, month, "retry job");

    /// <summary>"send", "resend failed", "resume": the job's kind as the admin API and the dashboard show it.</summary>
    public string Kind => Work switch
    {
        DeliveryWork.Resend => "resend " + Resend!.Kind.ToString().ToLowerInvariant(),
        _ => Work.ToString().ToLowerInvariant(),
    };

    /// <summary>The same work on the same edition: a second starter joins the job instead of queuing another.</summary>
    public bool SameWorkAs(DeliveryRequest other) => Work == other.Work && Month == other.Month && Resend == other.Resend;
}

/// <summary>What a job did: the engine's run (null when a resume found the edition held by another run) and, for a resend, what it queued.</summary>
public sealed record DeliveryJobResult(SendResult? Run, int Queued = 0, int LeftFailed = 0)
{
    /// <summary>"3 queued; 3 sent, 0 failed, 0 deferred, 0 skipped": the job's outcome as the admin API and the dashboard show it.</summary>
    public string Describe(DeliveryWork work)
    {
        var run = Run is null
            ? "not run: another run holds the edition"
            : $"{Run.Sent} sent, {Run.Failed} failed, {Run.Deferred} deferred, {Run.Skipped} skipped" +
              (Run.StoppedBecause is { } why ? $"; stopped: {why}" : "");
        return work == DeliveryWork.Resend
            ? $"{Queued} queued; {run}" + (LeftFailed > 0 ? $"; {LeftFailed} failed left (no longer confirmed)" : "")
            : run;
    }
}

/// <summary>A job of the delivery worker as the admin API and the dashboard show it: what, who started it, and how it ended.</summary>
public sealed record SendJobView(
    string Month, string Kind, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string? Outcome, string? Error, string StartedBy = "")
{
    public bool Running => FinishedAt is null;
}

/// <summary>
/// One job of the <see cref="DeliveryWorker"/>: awaitable by whoever asked (and by anyone who joined it), with the
/// engine's progress passed on to each of them.
/// </summary>
public sealed class DeliveryJob : IProgress<SendProgress>
{
    readonly TaskCompletionSource<DeliveryJobResult> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly Lock _lock = new();
    IProgress<SendProgress>[] _watchers = [];
    SendJobView _view;

    internal DeliveryJob(DeliveryRequest request, DeliveryJob? after, bool unwatched, DateTimeOffset queuedAt)
    {
        Request = request;
        After = after;
        Unwatched = unwatched;
        _view = new SendJobView(request.Month, request.Kind, queuedAt, null, null, null, request.StartedBy);
    }

    public DeliveryRequest Request { get; }

    /// <summary>The job of the same edition this one waits for: one job per edition runs at a time in a process.</summary>
    internal DeliveryJob? After { get; }

    /// <summary>Started by a starter that answered at once (the admin API, the dashboard): nobody awaits its outcome.</summary>
    internal bool Unwatched { get; }

    /// <summary>The result; faults with the engine's exception (a halted run, a bad request), or is cancelled if the worker stopped before the job began.</summary>
    public Task<DeliveryJobResult> Completion => _done.Task;

    public bool Finished => _done.Task.IsCompleted;

    public SendJobView View
    {
        get
        {
            lock (_lock)
            {
                return _view;
            }
        }
    }

    /// <summary>Passes the engine's progress on to <paramref name="progress"/> too.</summary>
    internal void Watch(IProgress<SendProgress>? progress)
    {
        if (progress is null)
        {
            return;
        }
        lock (_lock)
        {
            _watchers = [.. _watchers, progress];
        }
    }

    void IProgress<SendProgress>.Report(SendProgress value)
    {
        IProgress<SendProgress>[] watchers;
        lock (_lock)
        {
            watchers = _watchers;
        }
        foreach (var watcher in watchers)
        {
            watcher.Report(value);
        }
    }

    internal void Succeed(DeliveryJobResult result, DateTimeOffset at)
    {
        End(at, result.Describe(Request.Work), null);
        _done.TrySetResult(result);
    }

    internal void Fail(Exception e, DateTimeOffset at)
    {
        End(at, null, e.Message);
        _done.TrySetException(e);
    }

    /// <summary>The worker stopped before the job began or while it prepared: its rows wait for the next start.</summary>
    internal void Cancel(DateTimeOffset at)
    {
        End(at, null, "stopped: the delivery worker stopped before the job sent anything");
        _done.TrySetCanceled();
    }

    void End(DateTimeOffset at, string? outcome, string? error)
    {
        lock (_lock)
        {
            _view = _view with { FinishedAt = at, Outcome = outcome, Error = error };
        }
    }
}
