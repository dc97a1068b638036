using System.Data.Common;
using Dapper;

namespace PprnetNewsletter.Content;

/// <summary>
/// Reads and writes editions and their summaries: all of the content feature's SQL, which is the same for both engines.
/// An engine's store says only how to open a connection and how to take the write lock of an import.
/// </summary>
public abstract class SqlContentStore(TimeProvider time) : IContentStore
{
    /// <summary>A new open connection to the database; the caller disposes of it.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>A transaction that holds the content tables against other writers until it ends.</summary>
    protected abstract Task<DbTransaction> BeginImportTransactionAsync(DbConnection connection, CancellationToken ct);

    const string EditionByMonth = """
        SELECT id, month, status, sent_at AS SentAt FROM editions WHERE month = @month
        """;

    const string AllEditions = """
        SELECT e.id, e.month, e.status, count(s.id) AS SummaryCount, e.send_started_at AS SendStartedAt, e.sent_at AS SentAt
        FROM editions e LEFT JOIN summaries s ON s.edition_id = e.id
        GROUP BY e.id, e.month, e.status, e.send_started_at, e.sent_at
        ORDER BY e.month DESC
        """;

    const string SummariesOfEdition = """
        SELECT id, slug, position, title, citation, research_type AS ResearchType, link,
               body_html AS BodyHtml, body_text AS BodyText,
               implications_html AS ImplicationsHtml, implications_text AS ImplicationsText
        FROM summaries WHERE edition_id = @editionId ORDER BY position, id
        """;

    const string TopicsOfEdition = """
        SELECT st.summary_id AS SummaryId, t.id, t.slug, t.name
        FROM summary_topics st JOIN summaries s ON s.id = st.summary_id JOIN topics t ON t.id = st.topic_id
        WHERE s.edition_id = @editionId
        """;

    const string AllTopics = "SELECT id, slug, name FROM topics";

    const string CountSummaries = "SELECT count(*) FROM summaries";

    // Dapper maps rows to records by constructor: column order and types must match (ids are 64-bit in both engines).
    sealed record EditionRow(long Id, string Month, string Status, DateTimeOffset? SentAt);

    // Classes with setters where a column's integer type differs between the engines (SQLite's are all 64-bit,
    // PostgreSQL's position is a 32-bit integer): Dapper converts a value to a property's type, never to a constructor's.
    sealed class SummaryRow
    {
        public long Id { get; init; }
        public string Slug { get; init; } = "";
        public int Position { get; init; }
        public string Title { get; init; } = "";
        public string? Citation { get; init; }
        public string? ResearchType { get; init; }
        public string? Link { get; init; }
        public string BodyHtml { get; init; } = "";
        public string BodyText { get; init; } = "";
        public string ImplicationsHtml { get; init; } = "";
        public string ImplicationsText { get; init; } = "";
    }

    sealed record SummaryTopicRow(long SummaryId, long TopicId);

    sealed record EditionTopicRow(long SummaryId, long Id, string Slug, string Name)
    {
        public Topic ToTopic() => new(Id, Slug, Name);
    }

    public async Task<Edition?> GetEditionAsync(string month, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        var edition = await connection.QuerySingleOrDefaultAsync<EditionRow>(
            new CommandDefinition(EditionByMonth, new { month }, cancellationToken: ct));
        if (edition is null)
        {
            return null;
        }
        var rows = await connection.QueryAsync<SummaryRow>(
            new CommandDefinition(SummariesOfEdition, new { editionId = edition.Id }, cancellationToken: ct));
        var links = (await connection.QueryAsync<EditionTopicRow>(
            new CommandDefinition(TopicsOfEdition, new { editionId = edition.Id }, cancellationToken: ct))).ToLookup(l => l.SummaryId);

        var summaries = new List<Summary>();
        foreach (var r in rows)
        {
            // Sorted here, not by the database, whose collation of names may differ between engines and servers.
            var summaryTopics = links[r.Id].Select(l => l.ToTopic()).OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
            summaries.Add(new Summary(r.Id, r.Slug, r.Position, r.Title, r.Citation, r.ResearchType,
                r.BodyHtml, r.BodyText, r.ImplicationsHtml, r.ImplicationsText, summaryTopics) { Link = r.Link });
        }
        return new Edition(edition.Id, edition.Month, edition.Status, edition.SentAt, summaries);
    }

    public async Task<IReadOnlyList<EditionInfo>> ListEditionsAsync(CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        // With no row, SQLite gives the count column no type (Microsoft.Data.Sqlite reports it as a blob), and Dapper then
        // finds no constructor of EditionInfo to match: an empty list must not reach the mapper.
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT EXISTS (SELECT 1 FROM editions)", cancellationToken: ct)))
        {
            return [];
        }
        return (await connection.QueryAsync<EditionInfo>(new CommandDefinition(AllEditions, cancellationToken: ct))).ToList();
    }

    public async Task<int> CountSummariesAsync(CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(CountSummaries, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<Topic>> TopicsAsync(CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return (await connection.QueryAsync<Topic>(new CommandDefinition(AllTopics, cancellationToken: ct))).ToList();
    }

    public async Task<IImportSession> BeginImportAsync(CancellationToken ct = default)
    {
        var connection = await OpenAsync(ct);
        DbTransaction? tx = null;
        try
        {
            tx = await BeginImportTransactionAsync(connection, ct);
            var stored = await ImportSession.LoadAsync(connection, tx, ct);
            return new ImportSession(connection, tx, stored, time.GetUtcNow());
        }
        catch
        {
            if (tx is not null)
            {
                await tx.DisposeAsync();
            }
            await connection.DisposeAsync();
            throw;
        }
    }

    sealed class ImportSession : IImportSession
    {
        const string StoredSummaries = """
            SELECT s.id, s.edition_id AS EditionId, e.status, e.month, s.slug, s.sort_order AS SortOrder, s.title, s.citation,
                   s.research_type AS ResearchType, s.body_markdown AS BodyMarkdown, s.body_html AS BodyHtml,
                   s.body_text AS BodyText, s.implications_markdown AS ImplicationsMarkdown,
                   s.implications_html AS ImplicationsHtml, s.implications_text AS ImplicationsText, s.source_file AS SourceFile,
                   s.link
            FROM summaries s JOIN editions e ON e.id = s.edition_id
            """;

        const string StoredTopics = "SELECT summary_id AS SummaryId, topic_id AS TopicId FROM summary_topics";

        const string StoredEditions = "SELECT month, status FROM editions";

        const string InsertEdition = """
            INSERT INTO editions (month, status, created_at) VALUES (@month, 'draft', @now) ON CONFLICT (month) DO NOTHING
            """;

        const string EditionId = "SELECT id FROM editions WHERE month = @month";

        const string InsertSummary = """
            INSERT INTO summaries (edition_id, slug, position, sort_order, title, citation, research_type, link,
                body_markdown, body_html, body_text, implications_markdown, implications_html, implications_text,
                source_file, imported_at, updated_at)
            VALUES (@EditionId, @Slug, 0, @Order, @Title, @Citation, @ResearchType, @Link,
                @BodyMarkdown, @BodyHtml, @BodyText, @ImplicationsMarkdown, @ImplicationsHtml, @ImplicationsText,
                @SourceFile, @Now, @Now)
            RETURNING id
            """;

        const string UpdateSummary = """
            UPDATE summaries SET edition_id = @EditionId, sort_order = @Order, title = @Title, citation = @Citation,
                research_type = @ResearchType, link = @Link, body_markdown = @BodyMarkdown, body_html = @BodyHtml, body_text = @BodyText,
                implications_markdown = @ImplicationsMarkdown, implications_html = @ImplicationsHtml,
                implications_text = @ImplicationsText, source_file = @SourceFile, updated_at = @Now
            WHERE id = @Id
            """;

        const string DeleteTopics = "DELETE FROM summary_topics WHERE summary_id = @summaryId";

        const string InsertTopic = "INSERT INTO summary_topics (summary_id, topic_id) VALUES (@SummaryId, @TopicId)";

        const string PlacesInEdition = """
            SELECT id, sort_order AS SortOrder, source_file AS SourceFile, slug FROM summaries WHERE edition_id = @editionId
            """;

        const string SetPosition = "UPDATE summaries SET position = @Position WHERE id = @Id";

        // A draft edition left without summaries (its last one moved to another month) would be an empty email.
        const string DeleteEmptyDraft = """
            DELETE FROM editions WHERE id = @editionId AND status = 'draft'
                AND NOT EXISTS (SELECT 1 FROM summaries WHERE edition_id = @editionId)
                AND NOT EXISTS (SELECT 1 FROM deliveries WHERE edition_id = @editionId)
            """;

        // Classes with setters: sort_order is a 64-bit integer in SQLite and a 32-bit one in PostgreSQL (see SummaryRow).
        sealed class StoredRow
        {
            public long Id { get; init; }
            public long EditionId { get; init; }
            public string Status { get; init; } = "";
            public string Month { get; init; } = "";
            public string Slug { get; init; } = "";
            public int? SortOrder { get; init; }
            public string Title { get; init; } = "";
            public string? Citation { get; init; }
            public string? ResearchType { get; init; }
            public string BodyMarkdown { get; init; } = "";
            public string BodyHtml { get; init; } = "";
            public string BodyText { get; init; } = "";
            public string ImplicationsMarkdown { get; init; } = "";
            public string ImplicationsHtml { get; init; } = "";
            public string ImplicationsText { get; init; } = "";
            public string? SourceFile { get; init; }
            public string? Link { get; init; }
        }

        sealed record StoredEdition(string Month, string Status);

        sealed class PlaceRow
        {
            public long Id { get; init; }
            public int? SortOrder { get; init; }
            public string? SourceFile { get; init; }
            public string Slug { get; init; } = "";
        }

        public sealed record Stored(IReadOnlyDictionary<string, StoredSummary> Summaries, IReadOnlyDictionary<string, string> EditionStatuses);

        readonly DbConnection _connection;
        readonly DbTransaction _tx;
        readonly DateTimeOffset _now;

        internal ImportSession(DbConnection connection, DbTransaction tx, Stored stored, DateTimeOffset now)
        {
            _connection = connection;
            _tx = tx;
            _now = now;
            Summaries = stored.Summaries;
            EditionStatuses = stored.EditionStatuses;
        }

        public IReadOnlyDictionary<string, StoredSummary> Summaries { get; }

        public IReadOnlyDictionary<string, string> EditionStatuses { get; }

        internal static async Task<Stored> LoadAsync(DbConnection connection, DbTransaction tx, CancellationToken ct)
        {
            var rows = await connection.QueryAsync<StoredRow>(new CommandDefinition(StoredSummaries, transaction: tx, cancellationToken: ct));
            var links = (await connection.QueryAsync<SummaryTopicRow>(new CommandDefinition(StoredTopics, transaction: tx, cancellationToken: ct)))
                .ToLookup(l => l.SummaryId, l => l.TopicId);
            var editions = await connection.QueryAsync<StoredEdition>(new CommandDefinition(StoredEditions, transaction: tx, cancellationToken: ct));
            var summaries = rows.ToDictionary(r => r.Slug, r => new StoredSummary(r.Id, r.EditionId, r.Status, new SummaryDraft(
                r.Slug, r.Month, r.SortOrder, r.Title, r.Citation, r.ResearchType,
                new RenderedMarkdown(r.BodyMarkdown, r.BodyHtml, r.BodyText),
                new RenderedMarkdown(r.ImplicationsMarkdown, r.ImplicationsHtml, r.ImplicationsText),
                links[r.Id].ToList(), r.SourceFile ?? "") { Link = r.Link }));
            return new Stored(summaries, editions.ToDictionary(e => e.Month, e => e.Status));
        }

        public async Task SaveAsync(IEnumerable<SummaryDraft> drafts, CancellationToken ct = default)
        {
            var touched = new HashSet<long>();
            foreach (var draft in drafts)
            {
                var editionId = await EnsureEditionAsync(draft.Month, ct);
                touched.Add(editionId);
                var values = new
                {
                    EditionId = editionId, draft.Slug, draft.Order, draft.Title, draft.Citation, draft.ResearchType, draft.Link,
                    BodyMarkdown = draft.Body.Markdown, BodyHtml = draft.Body.Html, BodyText = draft.Body.Text,
                    ImplicationsMarkdown = draft.Implications.Markdown, ImplicationsHtml = draft.Implications.Html,
                    ImplicationsText = draft.Implications.Text, draft.SourceFile, Now = _now,
                    Id = Summaries.TryGetValue(draft.Slug, out var stored) ? stored.Id : 0,
                };
                long summaryId;
                if (stored is not null)
                {
                    touched.Add(stored.EditionId);
                    await Execute(UpdateSummary, values, ct);
                    summaryId = stored.Id;
                }
                else
                {
                    summaryId = await _connection.ExecuteScalarAsync<long>(new CommandDefinition(InsertSummary, values, _tx, cancellationToken: ct));
                }
                await Execute(DeleteTopics, new { summaryId }, ct);
                await Execute(InsertTopic, draft.TopicIds.Select(topicId => new { SummaryId = summaryId, TopicId = topicId }), ct);
            }
            foreach (var editionId in touched)
            {
                await RenumberAsync(editionId, ct);
                await Execute(DeleteEmptyDraft, new { editionId }, ct);
            }
        }

        async Task<long> EnsureEditionAsync(string month, CancellationToken ct)
        {
            await Execute(InsertEdition, new { month, now = _now }, ct);
            return await _connection.ExecuteScalarAsync<long>(new CommandDefinition(EditionId, new { month }, _tx, cancellationToken: ct));
        }

        /// <summary>Positions 1..n: summaries with an order first, by that order; then the rest by file name.</summary>
        async Task RenumberAsync(long editionId, CancellationToken ct)
        {
            var places = await _connection.QueryAsync<PlaceRow>(new CommandDefinition(PlacesInEdition, new { editionId }, _tx, cancellationToken: ct));
            var ordered = places
                .OrderBy(p => p.SortOrder is null)
                .ThenBy(p => p.SortOrder)
                .ThenBy(p => Path.GetFileName(p.SourceFile ?? ""), StringComparer.Ordinal)
                .ThenBy(p => p.Slug, StringComparer.Ordinal);
            await Execute(SetPosition, ordered.Select((p, i) => new { p.Id, Position = i + 1 }), ct);
        }

        Task Execute(string sql, object parameters, CancellationToken ct) =>
            _connection.ExecuteAsync(new CommandDefinition(sql, parameters, _tx, cancellationToken: ct));

        public Task CommitAsync(CancellationToken ct = default) => _tx.CommitAsync(ct);

        public async ValueTask DisposeAsync()
        {
            await _tx.DisposeAsync();
            await _connection.DisposeAsync();
        }
    }
}
