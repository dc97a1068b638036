using Dapper;
using PprnetNewsletter.Storage;

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
/// of the ledger's counts and timestamps, so the dashboard does not depend on how the engine works. All its SQL is here.
/// </summary>
public sealed class DashboardQueries(Db db)
{
    // Timestamps are fixed-width ISO-8601 text: the first 16 characters are the minute ("2023-03-01T09:00").
    const string SentPerMinute = """
        SELECT substr(d.sent_at, 1, 16) AS Minute, count(*) AS Count
        FROM deliveries d JOIN editions e ON e.id = d.edition_id
        WHERE e.month = @month AND d.sent_at IS NOT NULL
        GROUP BY Minute ORDER BY Minute
        """;

    const string SubscribersPerStatus = "SELECT status, count(*) AS Count FROM subscribers GROUP BY status";

    const string SubscribersPerTopic = """
        SELECT t.slug, t.name,
               (SELECT count(*) FROM subscribers s
                WHERE s.status IN ('confirmed', 'paused')
                  AND (s.all_topics = 1 OR EXISTS (SELECT 1 FROM subscriber_topics st WHERE st.subscriber_id = s.id AND st.topic_id = t.id))) AS Count
        FROM topics t ORDER BY t.name
        """;

    const string SubscriberIdsWithTopic = """
        SELECT s.id FROM subscribers s
        WHERE (@status IS NULL OR s.status = @status)
          AND (@search IS NULL OR instr(lower(s.email), lower(@search)) > 0 OR instr(lower(s.name), lower(@search)) > 0)
          AND (s.all_topics = 1 OR EXISTS (SELECT 1 FROM subscriber_topics st JOIN topics t ON t.id = st.topic_id
                                           WHERE st.subscriber_id = s.id AND t.slug = @topic))
        ORDER BY s.id
        """;

    const string SummaryBySlug = """
        SELECT s.slug, e.month, e.status AS EditionStatus, s.position, s.title, s.citation, s.research_type AS ResearchType,
               s.body_markdown AS BodyMarkdown, s.implications_markdown AS ImplicationsMarkdown
        FROM summaries s JOIN editions e ON e.id = s.edition_id WHERE s.slug = @slug
        """;

    const string TopicsOfSummary = """
        SELECT t.slug FROM summary_topics st JOIN topics t ON t.id = st.topic_id JOIN summaries s ON s.id = st.summary_id
        WHERE s.slug = @slug ORDER BY t.name
        """;

    sealed record SummaryRow(string Slug, string Month, string EditionStatus, long Position, string Title, string? Citation,
        string? ResearchType, string BodyMarkdown, string ImplicationsMarkdown);

    public async Task<IReadOnlyList<MinuteCount>> SentPerMinuteAsync(string month, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        return (await connection.QueryAsync<MinuteCount>(new CommandDefinition(SentPerMinute, new { month }, cancellationToken: ct))).ToList();
    }

    public async Task<IReadOnlyDictionary<string, long>> SubscribersPerStatusAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        return (await connection.QueryAsync<StatusCount>(new CommandDefinition(SubscribersPerStatus, cancellationToken: ct)))
            .ToDictionary(c => c.Status, c => c.Count);
    }

    /// <summary>Subscribers who would get a topic's summaries (confirmed or paused; "all topics" counts for every topic).</summary>
    public async Task<IReadOnlyList<TopicCount>> SubscribersPerTopicAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        return (await connection.QueryAsync<TopicCount>(new CommandDefinition(SubscribersPerTopic, cancellationToken: ct))).ToList();
    }

    /// <summary>The ids of subscribers who read <paramref name="topic"/> (a slug), with the list's other filters.</summary>
    public async Task<IReadOnlyList<long>> SubscriberIdsWithTopicAsync(string topic, string? status, string? search, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        return (await connection.QueryAsync<long>(new CommandDefinition(SubscriberIdsWithTopic,
            new { topic, status, search }, cancellationToken: ct))).ToList();
    }

    public async Task<SummarySource?> SummaryAsync(string slug, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<SummaryRow>(new CommandDefinition(SummaryBySlug, new { slug }, cancellationToken: ct));
        if (row is null)
        {
            return null;
        }
        var topics = (await connection.QueryAsync<string>(new CommandDefinition(TopicsOfSummary, new { slug }, cancellationToken: ct))).ToList();
        return new SummarySource(row.Slug, row.Month, row.EditionStatus, row.Position, row.Title, row.Citation, row.ResearchType,
            row.BodyMarkdown, row.ImplicationsMarkdown, topics);
    }
}
