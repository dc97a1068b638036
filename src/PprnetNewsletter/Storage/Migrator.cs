using System.Reflection;
using Dapper;

namespace PprnetNewsletter.Storage;

/// <summary>
/// Applies the SQL scripts in Storage/Migrations (embedded as Migrations.NNNN_name.sql) in order, each once,
/// recording them in schema_version. The whole run holds SQLite's write lock (BEGIN IMMEDIATE), so two
/// processes starting at once apply each script exactly once: the second waits, then finds nothing to do.
/// </summary>
public sealed class Migrator(Db db, ILogger<Migrator> logger) : ISchemaMigrator
{
    public sealed record Script(int Version, string Name, string Sql);

    public static IReadOnlyList<Script> Scripts { get; } = LoadScripts("Migrations.");

    public async Task<int> MigrateAsync(CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        // WAL lets readers (the web pages) carry on while a send writes; the mode is stored in the file.
        await connection.ExecuteAsync("PRAGMA journal_mode = WAL;");

        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, ct);
        var count = await ApplyPendingAsync(connection, tx, Scripts, "TEXT", logger);
        await tx.CommitAsync(ct);
        return count;
    }

    /// <summary>
    /// The part both engines share: records applied scripts in schema_version (<paramref name="timestampType"/> being
    /// the engine's type for its applied_at) and applies, within <paramref name="tx"/>, every script not recorded yet.
    /// </summary>
    internal static async Task<int> ApplyPendingAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction tx,
        IReadOnlyList<Script> scripts, string timestampType, ILogger logger)
    {
        await connection.ExecuteAsync($"""
            CREATE TABLE IF NOT EXISTS schema_version (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL,
                applied_at {timestampType} NOT NULL
            )
            """, transaction: tx);
        var applied = (await connection.QueryAsync<int>("SELECT version FROM schema_version", transaction: tx)).ToHashSet();

        var count = 0;
        foreach (var script in scripts.Where(s => !applied.Contains(s.Version)))
        {
            logger.LogInformation("Applying migration {Version:D4} {Name}", script.Version, script.Name);
            await connection.ExecuteAsync(script.Sql, transaction: tx);
            await connection.ExecuteAsync(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (@Version, @Name, @Now)",
                new { script.Version, script.Name, Now = DateTimeOffset.UtcNow }, tx);
            count++;
        }
        return count;
    }

    /// <summary>The embedded scripts whose resource names start with <paramref name="prefix"/>, in version order.</summary>
    internal static List<Script> LoadScripts(string prefix)
    {
        var assembly = typeof(Migrator).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                var name = n[prefix.Length..^".sql".Length];
                var version = int.Parse(name.AsSpan(0, name.IndexOf('_')), System.Globalization.CultureInfo.InvariantCulture);
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return new Script(version, name, reader.ReadToEnd());
            })
            .OrderBy(s => s.Version)
            .ToList();
    }
}
