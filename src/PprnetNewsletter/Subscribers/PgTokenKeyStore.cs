using Dapper;
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
        var key = await connection.ExecuteScalarAsync<byte[]>(
            "SELECT key FROM token_keys WHERE key_id = @keyId", new { keyId = TokenKeys.GeneratedKeyId });
        if (key is not { Length: >= TokenOptions.MinKeyBytes })
        {
            throw new InvalidOperationException(
                $"The link-token key in the token_keys table of {db.Describe()} is missing or too short: restore the table from a backup, or configure Tokens:Keys.");
        }
        if (created == 1)
        {
            logger.LogInformation("Generated the link-token key in the token_keys table of {Database}: keep backups of it, as of the rest of the database", db.Describe());
        }
        return new TokenKeyRing(TokenKeys.GeneratedKeyId, new Dictionary<string, byte[]> { [TokenKeys.GeneratedKeyId] = key },
            $"the token_keys table of {db.Describe()}");
    }
}
