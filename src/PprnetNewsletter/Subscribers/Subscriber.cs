namespace PprnetNewsletter.Subscribers;

/// <summary>The states of a subscription, as stored in subscribers.status.</summary>
public static class SubscriberStatus
{
    public const string Pending = "pending";
    public const string Confirmed = "confirmed";
    public const string Paused = "paused";
    public const string Unsubscribed = "unsubscribed";
    public const string Bounced = "bounced";

    public static IReadOnlyList<string> All { get; } = [Pending, Confirmed, Paused, Unsubscribed, Bounced];

    public static bool IsKnown(string? status) => status is not null && All.Contains(status);
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
    DateTimeOffset? ConfirmedAt)
{
    public TopicSelection Topics => AllTopics ? TopicSelection.All : TopicSelection.Of(TopicIds);
}

/// <summary>What a subscriber reads about: every topic, or an explicit non-empty set of topic ids.</summary>
public sealed record TopicSelection
{
    TopicSelection(bool allTopics, IReadOnlyList<long> topicIds)
    {
        AllTopics = allTopics;
        TopicIds = topicIds;
    }

    public bool AllTopics { get; }

    /// <summary>Sorted, distinct; empty when <see cref="AllTopics"/>.</summary>
    public IReadOnlyList<long> TopicIds { get; }

    public static TopicSelection All { get; } = new(true, []);

    public static TopicSelection Of(IEnumerable<long> topicIds) => new(false, topicIds.Distinct().Order().ToList());

    public bool IsEmpty => !AllTopics && TopicIds.Count == 0;

    public bool Equals(TopicSelection? other) =>
        other is not null && AllTopics == other.AllTopics && TopicIds.SequenceEqual(other.TopicIds);

    public override int GetHashCode() => HashCode.Combine(AllTopics, TopicIds.Count);
}

/// <summary>The values stored in consent_events.source: how a change came in.</summary>
public static class ConsentSource
{
    public const string Form = "form";
    public const string Admin = "admin";
    public const string Csv = "csv";
    public const string OneClick = "one_click";
    public const string Preferences = "preferences";
    public const string Bounce = "bounce";
    public const string Email = "email";
    public const string Complaint = "complaint";
    public const string Mailto = "mailto";

    public static IReadOnlyList<string> All { get; } = [Form, Admin, Csv, OneClick, Preferences, Bounce, Email, Complaint, Mailto];
}

/// <summary>The values stored in consent_events.event.</summary>
public static class ConsentEvent
{
    public const string Subscribed = "subscribed";
    public const string Confirmed = "confirmed";
    public const string PreferencesChanged = "preferences_changed";
    public const string Paused = "paused";
    public const string Resumed = "resumed";
    public const string Unsubscribed = "unsubscribed";
    public const string Bounced = "bounced";
    public const string Erased = "erased";
}

/// <summary>
/// Who asks for a change, recorded with it in the consent ledger: the source (a <see cref="ConsentSource"/>
/// value), and for web actions the client's IP address, user agent and the version of the consent wording shown.
/// The web pages, the admin API and the command line all pass one of these, so they share one store API.
/// </summary>
public sealed record ConsentContext(string Source, string? Ip = null, string? UserAgent = null, string? ConsentVersion = null)
{
    /// <summary>The source, checked: a wrong one is a programming error, caught before it reaches the database.</summary>
    public string Source { get; } = ConsentSource.All.Contains(Source)
        ? Source
        : throw new ArgumentOutOfRangeException(nameof(Source), Source, $"Use one of {string.Join(", ", ConsentSource.All)}.");

    public static ConsentContext Admin { get; } = new(ConsentSource.Admin);

    public static ConsentContext Csv { get; } = new(ConsentSource.Csv);
}

/// <summary>A subscriber to add: the address and name are checked and normalised by the store.</summary>
public sealed record NewSubscriber(string Email, string Name, TopicSelection Topics, string Status = SubscriberStatus.Confirmed);

/// <summary>One entry of the consent ledger.</summary>
public sealed record ConsentRecord(
    string Event, string Source, DateTimeOffset OccurredAt, string? Ip, string? UserAgent, string? ConsentVersion, string? Detail);
