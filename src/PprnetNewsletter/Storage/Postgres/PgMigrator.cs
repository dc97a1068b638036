using System.Reflection;
using Dapper;

namespace PprnetNewsletter.Storage.Postgres;

/// <summary>
/// Applies the SQL scripts in Storage/Postgres/Migrations (embedded as PostgresMigrations.NNNN_name.sql) in order,
/// each once, recording them in schema_version. The run holds a transaction-scoped advisory lock, so instances
/// starting together apply each script exactly once: the others wait, then find nothing to do. PostgreSQL's DDL is
/// transactional, so a script that fails leaves nothing half-applied.
/// </summary>
public sealed class PgMigrator(PgDb db, ILogger<PgMigrator> logger) : ISchemaMigrator
{
    /// <summary>An arbitrary constant naming the migration lock among the database's advisory locks.</summary>
    const long MigrationLock = 0x7070_726E_6574_0001;

    public static IReadOnlyList<Migrator.Script> Scripts { get; } = Migrator.LoadScripts("PostgresMigrations.");

    public async Task<int> MigrateAsync(CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync("SELECT pg_advisory_xact_lock(@MigrationLock)", new { MigrationLock }, tx);
        var count = await Migrator.ApplyPendingAsync(connection, tx, Scripts, "timestamptz", logger);
        await tx.CommitAsync(ct);
        return count;
    }
}
