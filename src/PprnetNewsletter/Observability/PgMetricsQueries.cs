using System.Data.Common;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Observability;

/// <summary>The metrics' counts from PostgreSQL.</summary>
public sealed class PgMetricsQueries(PgDb db) : SqlMetricsQueries
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);
}
