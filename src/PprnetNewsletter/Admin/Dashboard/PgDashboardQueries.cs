using System.Data.Common;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>The dashboard's reads on PostgreSQL.</summary>
public sealed class PgDashboardQueries(PgDb db) : SqlDashboardQueries
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);

    // sent_at is a timestamptz: its minute is written out in UTC, the same text the SQLite store gives.
    protected override string SentPerMinute => """
        SELECT to_char(d.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI') AS Minute, count(*) AS Count
        FROM deliveries d JOIN editions e ON e.id = d.edition_id
        WHERE e.month = @month AND d.sent_at IS NOT NULL
        GROUP BY 1 ORDER BY 1
        """;

    protected override string SubscriberIdsWithTopic => """
        SELECT s.id FROM subscribers s
        WHERE (@status::text IS NULL OR s.status = @status)
          AND (@search::text IS NULL OR strpos(lower(s.email), lower(@search)) > 0 OR strpos(lower(s.name), lower(@search)) > 0)
          AND (s.all_topics OR EXISTS (SELECT 1 FROM subscriber_topics st JOIN topics t ON t.id = st.topic_id
                                       WHERE st.subscriber_id = s.id AND t.slug = @topic))
        ORDER BY s.id
        """;
}
