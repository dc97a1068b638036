namespace PprnetNewsletter.Subscribers;

/// <summary>The states of a subscription, as stored in subscribers.status.</summary>
public static class SubscriberStatus
{
    public const string Pending = "pending";
    public const string Confirmed = "confirmed";
    public const string Paused = "paused";
    public const string Unsubscribed = "unsubscribed";
    public const string Bounced = "bounced";
}

/// <summary>A subscriber and the topics they chose (empty when <see cref="AllTopics"/>).</summary>
public sealed record Subscriber(
    long Id,
    string Email,
    string Name,
    string Status,
    bool AllTopics,
    IReadOnlyList<long> TopicIds,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ConfirmedAt);
