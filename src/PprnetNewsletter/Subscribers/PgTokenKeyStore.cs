using Dapper;
using Npgsql;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Subscribers;

/// <summary>
/// The generated link-token key of a PostgreSQL installation: one row of token_keys, shared by every instance on
/// the database, so any instance verifies the links any other signed (PostgreSQL migration 0010).
/// </summary>
public sealed class PgTokenKeyStore(PgDb db, TimeProvider time, ILogger<PgTokenKeyStore> logger) : ITokenKeyStore
{
    public TokenKeyRing LoadOrCreate() =>
        // Link tokens are signed and checked synchronously, and the key is read once per process, on first use: this
        // host has no synchronization context, so waiting here blocks one thread once and cannot deadlock.
        LoadOrCreateAsync().GetAwaiter().GetResult();

    /// <summary>
    /// Offers a new key and reads back whichever is stored. When instances race, PostgreSQL makes every other insert
    /// wait for the first to commit and then do nothing; the read that follows, a statement of its own, sees the
    /// committed row: all agree on the winner's key.
    /// </summary>
    async Task<TokenKeyRing> LoadOrCreateAsync()
    {
        await using var connection = await db.OpenAsync();
        var created = await connection.ExecuteAsync(
            "INSERT INTO token_keys (key_id, key, created_at) VALUES (@keyId, @key, @now) ON CONFLICT (key_id) DO NOTHING",
            new { keyId = TokenKeys.GeneratedKeyId, key = TokenKeys.NewKey(), now = time.GetUtcNow() });
        // Every stored key verifies: a key moved here from a SQLite installation keeps the id its links carry.
        var keys = (await connection.QueryAsync<(string KeyId, byte[] Key)>("SELECT key_id, key FROM token_keys"))
            .ToDictionary(k => k.KeyId, k => k.Key, StringComparer.Ordinal);
        if (!keys.ContainsKey(TokenKeys.GeneratedKeyId))
        {
            throw new InvalidOperationException(
                $"The link-token key '{TokenKeys.GeneratedKeyId}' is missing from the token_keys table of {db.Describe()}: restore the table from a backup, or configure Tokens:Keys.");
        }
        if (created == 1)
        {
            logger.LogInformation("Generated the link-token key in the token_keys table of {Database}: keep backups of it, as of the rest of the database", db.Describe());
        }
        return new TokenKeyRing(TokenKeys.GeneratedKeyId, keys, $"the token_keys table of {db.Describe()}");
    }

    /// <summary>
    /// Stores the keys of <paramref name="ring"/> (the generated key of a SQLite installation that moves here) in
    /// the transaction of the copy, so the unsubscribe and preference links sent before the move still open after
    /// it. Refused when this database already holds a different key under the same id: links may have been signed
    /// with it, and replacing it would break them.
    /// </summary>
    public static async Task AdoptAsync(NpgsqlConnection connection, NpgsqlTransaction tx, TokenKeyRing ring, DateTimeOffset now)
    {
        foreach (var (keyId, key) in ring.Keys)
        {
            await connection.ExecuteAsync(
                "INSERT INTO token_keys (key_id, key, created_at) VALUES (@keyId, @key, @now) ON CONFLICT (key_id) DO NOTHING",
                new { keyId, key, now }, tx);
            var stored = await connection.ExecuteScalarAsync<byte[]>("SELECT key FROM token_keys WHERE key_id = @keyId", new { keyId }, tx);
            if (!key.AsSpan().SequenceEqual(stored))
            {
                throw new UsageException(
                    $"The target database already has a different link-token key '{keyId}' (table token_keys): copy into a new, empty database, " +
                    "or links already sent would stop working.");
            }
        }
    }
}
