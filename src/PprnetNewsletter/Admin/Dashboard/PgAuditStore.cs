using System.Data.Common;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>The audit log on PostgreSQL.</summary>
public sealed class PgAuditStore(PgDb db) : SqlAuditStore
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);
}
