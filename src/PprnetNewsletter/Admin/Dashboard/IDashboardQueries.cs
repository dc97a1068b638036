namespace PprnetNewsletter.Admin.Dashboard;

// Classes with setters rather than positional records: a computed column of an empty result has no type in SQLite,
// and Dapper could then match no constructor.
public sealed class MinuteCount
{
    public string Minute { get; set; } = "";

    public long Count { get; set; }
}

public sealed class StatusCount
{
    public string Status { get; set; } = "";

    public long Count { get; set; }
}

public sealed class TopicCount
{
    public string Slug { get; set; } = "";

    public string Name { get; set; } = "";

    public long Count { get; set; }
}

/// <summary>A stored summary as its author wrote it (Markdown), for the edit form.</summary>
public sealed record SummarySource(string Slug, string Month, string EditionStatus, long Position, string Title, string? Citation,
    string? ResearchType, string BodyMarkdown, string ImplicationsMarkdown, IReadOnlyList<string> TopicSlugs);

/// <summary>
/// The dashboard's own reads: ledger rows per minute, subscribers per status and topic, a summary's Markdown. Reads only,
/// of the ledger's counts and timestamps, so the dashboard does not depend on how the engine works. One implementation per
/// database engine (<see cref="SqliteDashboardQueries"/>, <see cref="PgDashboardQueries"/>); both share
/// <see cref="SqlDashboardQueries"/>.
/// </summary>
public interface IDashboardQueries
{
    /// <summary>Messages of an edition sent per minute (UTC, "2023-03-01T09:00"), in order.</summary>
    Task<IReadOnlyList<MinuteCount>> SentPerMinuteAsync(string month, CancellationToken ct);

    Task<IReadOnlyDictionary<string, long>> SubscribersPerStatusAsync(CancellationToken ct);

    /// <summary>Subscribers who would get a topic's summaries (confirmed or paused; "all topics" counts for every topic), by topic name.</summary>
    Task<IReadOnlyList<TopicCount>> SubscribersPerTopicAsync(CancellationToken ct);

    /// <summary>The ids of subscribers who read <paramref name="topic"/> (a slug), with the list's other filters, in id order.</summary>
    Task<IReadOnlyList<long>> SubscriberIdsWithTopicAsync(string topic, string? status, string? search, CancellationToken ct);

    /// <summary>A stored summary as its author wrote it, with its topics' slugs in order of name; null when there is none.</summary>
    Task<SummarySource?> SummaryAsync(string slug, CancellationToken ct);
}
