using System.Data.Common;
using Dapper;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>
/// The dashboard's SQL. Most of it is the same for both engines; an engine's implementation gives the two statements
/// that differ (a timestamp cut to its minute, a search within text) and how to open a connection.
/// </summary>
public abstract class SqlDashboardQueries : IDashboardQueries
{
    /// <summary>A new open connection to the database; the caller disposes of it.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>
    /// Columns Minute ("2023-03-01T09:00", UTC) and Count of the deliveries of the edition of @month sent in each minute,
    /// in order of minute.
    /// </summary>
    protected abstract string SentPerMinute { get; }

    /// <summary>
    /// The ids, in order, of subscribers of status @status (any when null), whose address or name contains @search
    /// (any case; anyone when null), who read the topic of slug @topic (or all topics).
    /// </summary>
    protected abstract string SubscriberIdsWithTopic { get; }

    const string SubscribersPerStatus = "SELECT status, count(*) AS Count FROM subscribers GROUP BY status";

    // TRUE is 1 to SQLite and a boolean to PostgreSQL. Ordered in code: the engines' collations of names may differ.
    const string SubscribersPerTopic = """
        SELECT t.slug, t.name,
               (SELECT count(*) FROM subscribers s
                WHERE s.status IN ('confirmed', 'paused')
                  AND (s.all_topics = TRUE OR EXISTS (SELECT 1 FROM subscriber_topics st WHERE st.subscriber_id = s.id AND st.topic_id = t.id))) AS Count
        FROM topics t
        """;

    const string SummaryBySlug = """
        SELECT s.slug, e.month, e.status AS EditionStatus, s.position, s.title, s.citation, s.research_type AS ResearchType,
               s.body_markdown AS BodyMarkdown, s.implications_markdown AS ImplicationsMarkdown
        FROM summaries s JOIN editions e ON e.id = s.edition_id WHERE s.slug = @slug
        """;

    const string TopicsOfSummary = """
        SELECT t.slug, t.name FROM summary_topics st JOIN topics t ON t.id = st.topic_id JOIN summaries s ON s.id = st.summary_id
        WHERE s.slug = @slug
        """;

    // A class with setters: position is a 64-bit integer in SQLite and a 32-bit one in PostgreSQL, and Dapper converts a
    // column to a property's type, never to a constructor parameter's.
    sealed class SummaryRow
    {
        public string Slug { get; init; } = "";
        public string Month { get; init; } = "";
        public string EditionStatus { get; init; } = "";
        public long Position { get; init; }
        public string Title { get; init; } = "";
        public string? Citation { get; init; }
        public string? ResearchType { get; init; }
        public string BodyMarkdown { get; init; } = "";
        public string ImplicationsMarkdown { get; init; } = "";
    }

    sealed record TopicName(string Slug, string Name);

    public async Task<IReadOnlyList<MinuteCount>> SentPerMinuteAsync(string month, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return (await connection.QueryAsync<MinuteCount>(new CommandDefinition(SentPerMinute, new { month }, cancellationToken: ct))).ToList();
    }

    public async Task<IReadOnlyDictionary<string, long>> SubscribersPerStatusAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return (await connection.QueryAsync<StatusCount>(new CommandDefinition(SubscribersPerStatus, cancellationToken: ct)))
            .ToDictionary(c => c.Status, c => c.Count);
    }

    public async Task<IReadOnlyList<TopicCount>> SubscribersPerTopicAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return (await connection.QueryAsync<TopicCount>(new CommandDefinition(SubscribersPerTopic, cancellationToken: ct)))
            .OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
    }

    public async Task<IReadOnlyList<long>> SubscriberIdsWithTopicAsync(string topic, string? status, string? search, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return (await connection.QueryAsync<long>(new CommandDefinition(SubscriberIdsWithTopic,
            new { topic, status, search }, cancellationToken: ct))).ToList();
    }

    public async Task<SummarySource?> SummaryAsync(string slug, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<SummaryRow>(new CommandDefinition(SummaryBySlug, new { slug }, cancellationToken: ct));
        if (row is null)
        {
            return null;
        }
        var topics = (await connection.QueryAsync<TopicName>(new CommandDefinition(TopicsOfSummary, new { slug }, cancellationToken: ct)))
            .OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => t.Slug).ToList();
        return new SummarySource(row.Slug, row.Month, row.EditionStatus, row.Position, row.Title, row.Citation, row.ResearchType,
            row.BodyMarkdown, row.ImplicationsMarkdown, topics);
    }
}
