using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Subscribers;

/// <summary>Changes to name, topics and status, applied together (null: keep as it is).</summary>
public sealed record SubscriberChange(string? Name, TopicSelection? Topics, string? Status);

/// <summary>
/// A change of status: to <see cref="To"/>, recorded as <see cref="Event"/>, allowed from the statuses in
/// <see cref="From"/>. Already there, or in one of <see cref="LeaveAlone"/>: nothing to do.
/// </summary>
public sealed record StatusMove(string To, string Event, string[] From, string[] LeaveAlone)
{
    public static StatusMove Pause { get; } = new(SubscriberStatus.Paused, ConsentEvent.Paused, [SubscriberStatus.Confirmed], []);

    public static StatusMove Resume { get; } = new(SubscriberStatus.Confirmed, ConsentEvent.Resumed, [SubscriberStatus.Paused], []);

    public static StatusMove Unsubscribe { get; } = new(SubscriberStatus.Unsubscribed, ConsentEvent.Unsubscribed,
        [SubscriberStatus.Pending, SubscriberStatus.Confirmed, SubscriberStatus.Paused, SubscriberStatus.Bounced], []);

    /// <summary>An unsubscribed address stays unsubscribed when it bounces.</summary>
    public static StatusMove Bounce { get; } = new(SubscriberStatus.Bounced, ConsentEvent.Bounced,
        [SubscriberStatus.Pending, SubscriberStatus.Confirmed, SubscriberStatus.Paused], [SubscriberStatus.Unsubscribed]);

    /// <summary>The statuses an administrator may set directly.</summary>
    public static IReadOnlyList<string> Targets { get; } = [SubscriberStatus.Paused, SubscriberStatus.Confirmed, SubscriberStatus.Unsubscribed];

    /// <summary>The move to <paramref name="status"/> (paused, confirmed to resume, unsubscribed); a <see cref="UsageException"/> otherwise.</summary>
    public static StatusMove ByTarget(string status) => status switch
    {
        SubscriberStatus.Paused => Pause,
        SubscriberStatus.Confirmed => Resume,
        SubscriberStatus.Unsubscribed => Unsubscribe,
        _ => throw new UsageException(TargetProblem(status)),
    };

    public static string TargetProblem(string status) =>
        $"status can be changed to paused, confirmed (resume) or unsubscribed, not '{status}'.";

    /// <summary>True when the move changes the status; false when there is nothing to do; throws when it is not allowed.</summary>
    public bool Applies(string current)
    {
        if (current == To || LeaveAlone.Contains(current))
        {
            return false;
        }
        return From.Contains(current)
            ? true
            : throw new UsageException($"A subscription that is {current} cannot become {To}; it must be {string.Join(" or ", From)}.");
    }
}
