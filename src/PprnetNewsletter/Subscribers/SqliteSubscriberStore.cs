using System.Data.Common;
using PprnetNewsletter.Content;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Subscribers;

/// <summary>The subscribers in the SQLite database (Storage:Provider = Sqlite).</summary>
public sealed class SqliteSubscriberStore(Db db, TopicCatalog topics, TimeProvider time)
    : SubscriberStore(SqliteSubscriberQueries.Sql, topics, time)
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);
}

/// <summary>
/// The subscribers feature's SQL for SQLite. group_concat is SQLite's spelling of PostgreSQL's string_agg; the JSON
/// arrays of the writes are read with json_each.
/// </summary>
static class SqliteSubscriberQueries
{
    const string Select = """
        SELECT s.id, s.email, s.name, s.status, s.all_topics AS AllTopics, s.created_at AS CreatedAt,
               s.confirmed_at AS ConfirmedAt, s.updated_at AS UpdatedAt,
               coalesce((SELECT group_concat(t.topic_id) FROM subscriber_topics t WHERE t.subscriber_id = s.id), '') AS TopicIds
        FROM subscribers s
        """;

    /// <summary>The filter shared by the page and the count: status, then a substring of the address or name.</summary>
    const string Filter = """
        WHERE (@status IS NULL OR s.status = @status)
          AND (@search IS NULL OR instr(lower(s.email), @search) > 0 OR instr(lower(s.name), @search) > 0)
        """;

    public static SubscriberSql Sql { get; } = new()
    {
        ById = $"{Select} WHERE s.id = @id",
        ByEmail = $"{Select} WHERE lower(s.email) = lower(@email)",
        // A SQLite transaction holds the database's one write lock from its start (BEGIN IMMEDIATE): rows need no lock.
        ForUpdate = "",
        LockAdditions = "",
        ByEmails = $"{Select} WHERE lower(s.email) IN (SELECT lower(value) FROM json_each(@emails))",
        Page = $"{Select} {Filter} ORDER BY s.id LIMIT @limit OFFSET @offset",
        Count = $"SELECT count(*) FROM subscribers s {Filter}",
        All = $"{Select} {Filter} ORDER BY s.id",
        // Ids are taken above the highest ever given (subscriber_id_watermark, migration 0008), never SQLite's
        // max(id) + 1, so no id is handed out twice.
        Insert = """
            INSERT INTO subscribers (id, email, name, status, all_topics, created_at, confirmed_at, updated_at)
            SELECT (SELECT high FROM subscriber_id_watermark) + 1 + r.key, r.value ->> 'email', r.value ->> 'name', r.value ->> 'status', r.value ->> 'allTopics', @now,
                   CASE WHEN r.value ->> 'confirmed' THEN @now END, @now
            FROM json_each(@rows) r
            ORDER BY r.key
            RETURNING id AS Id, email AS Email
            """,
        UpdateProfiles = """
            UPDATE subscribers SET name = r.value ->> 'name', all_topics = r.value ->> 'allTopics', updated_at = @now
            FROM json_each(@rows) r
            WHERE subscribers.id = r.value ->> 'id'
            """,
        ClearTopics = "DELETE FROM subscriber_topics WHERE subscriber_id IN (SELECT value ->> 'id' FROM json_each(@rows))",
        AddTopics = """
            INSERT INTO subscriber_topics (subscriber_id, topic_id)
            SELECT r.value ->> 'id', t.value FROM json_each(@rows) r, json_each(r.value -> 'topicIds') t
            """,
        AppendEvents = """
            INSERT INTO consent_events (subscriber_id, event, source, occurred_at, ip, user_agent, consent_version, detail)
            SELECT e.value ->> 'subscriberId', e.value ->> 'event', @source, @now, @ip, @userAgent, @consentVersion, e.value ->> 'detail'
            FROM json_each(@events) e
            ORDER BY e.key
            """,
        AcceptsLegacyLinks = "SELECT count(*) FROM subscribers WHERE id = @id AND legacy_links = 1",
    };
}
