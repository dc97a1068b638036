using System.Data.Common;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Bounces;

/// <summary>The bounce store on the SQLite file.</summary>
public sealed class SqliteBounceStore(Db db, TimeProvider time) : SqlBounceStore(time)
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);
}
