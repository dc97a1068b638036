using System.Data.Common;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Admin;

/// <summary>The admin API's reads on the SQLite file.</summary>
public sealed class SqliteAdminQueries(Db db) : SqlAdminQueries
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);
}
