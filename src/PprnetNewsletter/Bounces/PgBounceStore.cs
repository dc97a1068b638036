using System.Data.Common;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Bounces;

/// <summary>The bounce store on PostgreSQL.</summary>
public sealed class PgBounceStore(PgDb db, TimeProvider time) : SqlBounceStore(time)
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);
}
