using System.Data.Common;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>The administrator accounts on PostgreSQL.</summary>
public sealed class PgAdminAccountStore(PgDb db) : SqlAdminAccountStore
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);
}
