using System.Data.Common;
using Dapper;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Tests.Support;

/// <summary>
/// A connection to a test app's database, whichever engine it uses: for contract tests that must seed what another
/// feature's store writes (subscribers, ledger rows) or read what no interface shows. The SQL given must be standard SQL
/// with typed parameters (a bool for a flag, a DateTimeOffset for a time), which both engines take.
/// </summary>
public static class EngineSql
{
    public static async Task<DbConnection> OpenAsync(TestApp test) =>
        test.Get<Microsoft.Extensions.Options.IOptions<StorageOptions>>().Value.Provider == StorageProvider.Postgres
            ? await test.Get<PgDb>().OpenAsync()
            : await test.Get<Db>().OpenAsync();

    public static async Task<int> ExecuteAsync(TestApp test, string sql, object? parameters = null)
    {
        await using var connection = await OpenAsync(test);
        return await connection.ExecuteAsync(sql, parameters);
    }

    public static async Task<T?> ScalarAsync<T>(TestApp test, string sql, object? parameters = null)
    {
        await using var connection = await OpenAsync(test);
        return await connection.ExecuteScalarAsync<T>(sql, parameters);
    }

    /// <summary>Adds a subscriber row directly (as the subscriber feature would) and returns its id.</summary>
    public static Task<long> AddSubscriberAsync(TestApp test, string email, string status, bool allTopics = true) =>
        ScalarAsync<long>(test, """
            INSERT INTO subscribers (email, name, status, all_topics, created_at, updated_at)
            VALUES (@email, '', @status, @allTopics, @now, @now) RETURNING id
            """, new { email, status, allTopics, now = DateTimeOffset.UtcNow });
}
