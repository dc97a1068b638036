using System.Data.Common;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Observability;

/// <summary>The metrics' counts from the SQLite file.</summary>
public sealed class SqliteMetricsQueries(Db db) : SqlMetricsQueries
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);
}
