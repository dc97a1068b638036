using System.Data.Common;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Admin;

/// <summary>The admin API's reads on PostgreSQL.</summary>
public sealed class PgAdminQueries(PgDb db) : SqlAdminQueries
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);
}
