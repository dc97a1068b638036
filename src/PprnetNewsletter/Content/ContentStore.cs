using Dapper;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Content;

/// <summary>Reads editions and their summaries. All of the content feature's SQL lives here.</summary>
public sealed class ContentStore(Db db, TopicCatalog topics)
{
    const string EditionByMonth = """
        SELECT id, month, status, sent_at AS SentAt FROM editions WHERE month = @month
        """;

    const string SummariesOfEdition = """
        SELECT id, slug, position, title, citation, research_type AS ResearchType,
               body_html AS BodyHtml, body_text AS BodyText,
               implications_html AS ImplicationsHtml, implications_text AS ImplicationsText
        FROM summaries WHERE edition_id = @editionId ORDER BY position, id
        """;

    const string TopicsOfEdition = """
        SELECT st.summary_id AS SummaryId, st.topic_id AS TopicId
        FROM summary_topics st JOIN summaries s ON s.id = st.summary_id
        WHERE s.edition_id = @editionId
        """;

    // Published: the archive shows an edition as soon as its sending starts, so readers of the first emails
    // of a long send can already follow their "view in browser" links.
    const string PublishedSummaryTitles = """
        SELECT e.month, s.title
        FROM editions e JOIN summaries s ON s.edition_id = e.id
        WHERE e.status IN ('sending', 'sent')
        ORDER BY e.month DESC, s.position, s.id
        """;

    // Dapper maps rows to these by constructor: column order and types (SQLite integers are Int64) must match.
    sealed record EditionRow(long Id, string Month, string Status, DateTimeOffset? SentAt);

    sealed record SummaryRow(long Id, string Slug, long Position, string Title, string? Citation, string? ResearchType,
        string BodyHtml, string BodyText, string ImplicationsHtml, string ImplicationsText);

    sealed record SummaryTopicRow(long SummaryId, long TopicId);

    sealed record MonthTitleRow(string Month, string Title);

    /// <summary>The edition of <paramref name="month"/> (YYYY-MM) with its summaries, or null.</summary>
    public async Task<Edition?> GetEditionAsync(string month, CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        var edition = await connection.QuerySingleOrDefaultAsync<EditionRow>(
            new CommandDefinition(EditionByMonth, new { month }, cancellationToken: ct));
        if (edition is null)
        {
            return null;
        }
        var rows = await connection.QueryAsync<SummaryRow>(
            new CommandDefinition(SummariesOfEdition, new { editionId = edition.Id }, cancellationToken: ct));
        var links = (await connection.QueryAsync<SummaryTopicRow>(
            new CommandDefinition(TopicsOfEdition, new { editionId = edition.Id }, cancellationToken: ct))).ToLookup(l => l.SummaryId);

        var summaries = new List<Summary>();
        foreach (var r in rows)
        {
            var summaryTopics = new List<Topic>();
            foreach (var link in links[r.Id])
            {
                summaryTopics.Add(await topics.GetAsync(link.TopicId));
            }
            summaryTopics.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            summaries.Add(new Summary(r.Id, r.Slug, (int)r.Position, r.Title, r.Citation, r.ResearchType,
                r.BodyHtml, r.BodyText, r.ImplicationsHtml, r.ImplicationsText, summaryTopics));
        }
        return new Edition(edition.Id, edition.Month, edition.Status, edition.SentAt, summaries);
    }

    /// <summary>Months whose edition is being sent or was sent (newest first), with their summary titles in order.</summary>
    public async Task<IReadOnlyList<(string Month, IReadOnlyList<string> Titles)>> PublishedEditionsAsync(CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        var rows = await connection.QueryAsync<MonthTitleRow>(new CommandDefinition(PublishedSummaryTitles, cancellationToken: ct));
        return rows.GroupBy(r => r.Month).Select(g => (g.Key, (IReadOnlyList<string>)g.Select(r => r.Title).ToList())).ToList();
    }

    /// <summary>True when the edition of <paramref name="month"/> may be shown in the public archive.</summary>
    public static bool IsPublished(Edition edition) => edition.Status is "sending" or "sent";
}
