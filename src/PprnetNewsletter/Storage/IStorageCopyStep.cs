using Npgsql;

namespace PprnetNewsletter.Storage;

/// <summary>
/// Data a feature keeps outside the SQLite tables that `storage copy` must carry into PostgreSQL with them (the
/// generated link-token key lives in a file beside the SQLite database, and in a table with PostgreSQL). A feature
/// registers one; the copy runs it inside its transaction, after the tables, so it commits or rolls back with them.
/// </summary>
public interface IStorageCopyStep
{
    /// <summary>Copies what the feature keeps beside the SQLite file into the target; returns a line for the report, or null if there was nothing.</summary>
    Task<string?> CopyAsync(NpgsqlConnection target, NpgsqlTransaction transaction, CancellationToken ct);
}
