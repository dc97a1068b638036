using System.Data.Common;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>The administrator accounts on the SQLite file.</summary>
public sealed class SqliteAdminAccountStore(Db db) : SqlAdminAccountStore
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);
}
