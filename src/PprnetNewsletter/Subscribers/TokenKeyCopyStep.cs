using Npgsql;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Subscribers;

/// <summary>
/// `storage copy` carries the link-token key the service generated beside the SQLite file into PostgreSQL's
/// token_keys, in the copy's transaction: without it, every unsubscribe and preference link already sent would stop
/// opening after the move. Keys configured in Tokens:Keys are configuration, not data, and stay where they are.
/// </summary>
public sealed class TokenKeyCopyStep(SqliteTokenKeyStore source, TimeProvider time) : IStorageCopyStep
{
    public async Task<string?> CopyAsync(NpgsqlConnection target, NpgsqlTransaction transaction, CancellationToken ct)
    {
        if (source.LoadExisting() is not { } ring)
        {
            return null;
        }
        await PgTokenKeyStore.AdoptAsync(target, transaction, ring, time.GetUtcNow());
        return $"link-token key{(ring.Keys.Count == 1 ? "" : "s")} {string.Join(", ", ring.Keys.Keys)} (from {source.KeyFilePath}) carried over";
    }
}
