using System.Data.Common;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Delivery;

/// <summary>The edition run records in SQLite (see <see cref="IEditionRuns"/>).</summary>
public sealed class SqliteEditionRuns(Db db) : EditionRunsBase
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);
}
