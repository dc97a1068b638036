using System.Data.Common;
using Microsoft.Data.Sqlite;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Content;

/// <summary>The content store on the SQLite file.</summary>
public sealed class SqliteContentStore(Db db, TimeProvider time) : SqlContentStore(time)
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);

    // BEGIN IMMEDIATE: SQLite's one write lock, taken at the start rather than at the first write, so a concurrent import
    // or send cannot change what this import has read.
    protected override Task<DbTransaction> BeginImportTransactionAsync(DbConnection connection, CancellationToken ct) =>
        Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: false));
}
