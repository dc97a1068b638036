using System.Data.Common;
using Dapper;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Content;

/// <summary>The content store on PostgreSQL.</summary>
public sealed class PgContentStore(PgDb db, TimeProvider time) : SqlContentStore(time)
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);

    // SHARE ROW EXCLUSIVE admits readers but no other writer of these tables, and no other import, until the
    // transaction ends: an edition cannot start sending between this import's check of its status and its writes.
    const string LockContent = "LOCK TABLE editions, summaries, summary_topics IN SHARE ROW EXCLUSIVE MODE";

    protected override async Task<DbTransaction> BeginImportTransactionAsync(DbConnection connection, CancellationToken ct)
    {
        var tx = await connection.BeginTransactionAsync(ct);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(LockContent, transaction: tx, cancellationToken: ct));
            return tx;
        }
        catch
        {
            await tx.DisposeAsync();
            throw;
        }
    }
}
