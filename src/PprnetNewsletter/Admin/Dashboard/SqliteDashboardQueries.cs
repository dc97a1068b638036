using System.Data.Common;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>The dashboard's reads on the SQLite file.</summary>
public sealed class SqliteDashboardQueries(Db db) : SqlDashboardQueries
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);

    // Timestamps are fixed-width ISO-8601 text in SQLite: the first 16 characters are the minute ("2023-03-01T09:00").
    protected override string SentPerMinute => """
        SELECT substr(d.sent_at, 1, 16) AS Minute, count(*) AS Count
        FROM deliveries d JOIN editions e ON e.id = d.edition_id
        WHERE e.month = @month AND d.sent_at IS NOT NULL
        GROUP BY Minute ORDER BY Minute
        """;

    protected override string SubscriberIdsWithTopic => """
        SELECT s.id FROM subscribers s
        WHERE (@status IS NULL OR s.status = @status)
          AND (@search IS NULL OR instr(lower(s.email), lower(@search)) > 0 OR instr(lower(s.name), lower(@search)) > 0)
          AND (s.all_topics = 1 OR EXISTS (SELECT 1 FROM subscriber_topics st JOIN topics t ON t.id = st.topic_id
                                           WHERE st.subscriber_id = s.id AND t.slug = @topic))
        ORDER BY s.id
        """;
}
