using System.Data.Common;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>The audit log on the SQLite file.</summary>
public sealed class SqliteAuditStore(Db db) : SqlAuditStore
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);
}
