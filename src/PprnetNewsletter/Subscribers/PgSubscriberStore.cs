using System.Data.Common;
using PprnetNewsletter.Content;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Subscribers;

/// <summary>The subscribers in the PostgreSQL database (Storage:Provider = Postgres).</summary>
public sealed class PgSubscriberStore(PgDb db, TopicCatalog topics, TimeProvider time)
    : SubscriberStore(PgSubscriberQueries.Sql, topics, time)
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);
}

/// <summary>
/// The subscribers feature's SQL for PostgreSQL. The JSON arrays of the writes are read with jsonb_array_elements,
/// so a CSV import of 100,000 rows is still one INSERT per table, not a statement per row.
/// </summary>
static class PgSubscriberQueries
{
    // all_topics is boolean here; the row record is shared with SQLite, which has no boolean type, and reads 0 or 1.
    const string Select = """
        SELECT s.id, s.email, s.name, s.status, s.all_topics::int::int8 AS AllTopics, s.created_at AS CreatedAt,
               s.confirmed_at AS ConfirmedAt, s.updated_at AS UpdatedAt,
               coalesce((SELECT string_agg(t.topic_id::text, ',') FROM subscriber_topics t WHERE t.subscriber_id = s.id), '') AS TopicIds
        FROM subscribers s
        """;

    // The casts tell PostgreSQL the type of a parameter that may be null (Dapper sends a null without one).
    const string Filter = """
        WHERE (@status::text IS NULL OR s.status = @status::text)
          AND (@search::text IS NULL OR strpos(lower(s.email), @search::text) > 0 OR strpos(lower(s.name), @search::text) > 0)
        """;

    public static SubscriberSql Sql { get; } = new()
    {
        ById = $"{Select} WHERE s.id = @id",
        ByEmail = $"{Select} WHERE lower(s.email) = lower(@email)",
        // Two instances changing one subscriber at once: the second waits for the first to commit, then reads its result.
        ForUpdate = " FOR UPDATE OF s",
        // A row lock cannot guard an address nobody holds yet: additions take turns on a transaction-scoped advisory
        // lock instead (the constant names it among the database's advisory locks), as SQLite's one writer
        // makes them. Additions are rare next to reads, so the turns cost nothing noticeable.
        LockAdditions = "SELECT pg_advisory_xact_lock(8102101548113592343)", // 0x7070_726E_6574_0017
        ByEmails = $"{Select} WHERE lower(s.email) IN (SELECT lower(value) FROM jsonb_array_elements_text(@emails::jsonb))",
        Page = $"{Select} {Filter} ORDER BY s.id LIMIT @limit OFFSET @offset",
        Count = $"SELECT count(*) FROM subscribers s {Filter}",
        All = $"{Select} {Filter} ORDER BY s.id",
        // The id comes from the identity's sequence, which never hands a number out twice (a rolled-back or deleted
        // row's id is skipped for good), so no watermark is needed.
        Insert = """
            INSERT INTO subscribers (email, name, status, all_topics, created_at, confirmed_at, updated_at)
            SELECT r.value ->> 'email', r.value ->> 'name', r.value ->> 'status', (r.value ->> 'allTopics')::boolean, @now,
                   CASE WHEN (r.value ->> 'confirmed')::boolean THEN @now END, @now
            FROM jsonb_array_elements(@rows::jsonb) WITH ORDINALITY AS r(value, key)
            ORDER BY r.key
            RETURNING id AS Id, email AS Email
            """,
        UpdateProfiles = """
            UPDATE subscribers s SET name = r.value ->> 'name', all_topics = (r.value ->> 'allTopics')::boolean, updated_at = @now
            FROM jsonb_array_elements(@rows::jsonb) AS r(value)
            WHERE s.id = (r.value ->> 'id')::bigint
            """,
        ClearTopics = """
            DELETE FROM subscriber_topics
            WHERE subscriber_id IN (SELECT (value ->> 'id')::bigint FROM jsonb_array_elements(@rows::jsonb))
            """,
        AddTopics = """
            INSERT INTO subscriber_topics (subscriber_id, topic_id)
            SELECT (r.value ->> 'id')::bigint, t.value::bigint
            FROM jsonb_array_elements(@rows::jsonb) AS r(value), jsonb_array_elements_text(r.value -> 'topicIds') AS t(value)
            """,
        AppendEvents = """
            INSERT INTO consent_events (subscriber_id, event, source, occurred_at, ip, user_agent, consent_version, detail)
            SELECT (e.value ->> 'subscriberId')::bigint, e.value ->> 'event', @source, @now, @ip, @userAgent, @consentVersion, e.value ->> 'detail'
            FROM jsonb_array_elements(@events::jsonb) WITH ORDINALITY AS e(value, key)
            ORDER BY e.key
            """,
        AcceptsLegacyLinks = "SELECT count(*) FROM subscribers WHERE id = @id AND legacy_links",
    };
}
