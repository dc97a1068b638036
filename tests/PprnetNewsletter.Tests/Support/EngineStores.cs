using System.Data.Common;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Tests.Support;

/// <summary>
/// For the store contract tests, whichever engine a test app uses: a store of that engine built with the test's own
/// arguments (a FakeTimeProvider), and a connection to its database to seed what another feature's store writes
/// (subscribers, ledger rows). The SQL given must be standard SQL with typed parameters (a bool for a flag, a
/// DateTimeOffset for a time), which both engines take.
/// </summary>
public static class EngineStores
{
    static bool IsPostgres(TestApp test) =>
        test.Get<Microsoft.Extensions.Options.IOptions<StorageOptions>>().Value.Provider == StorageProvider.Postgres;

    /// <summary>The app's engine's implementation of a store, its other dependencies from the app.</summary>
    public static TStore Create<TStore, TSqlite, TPostgres>(TestApp test, params object[] arguments)
        where TSqlite : class, TStore where TPostgres : class, TStore =>
        IsPostgres(test)
            ? ActivatorUtilities.CreateInstance<TPostgres>(test.App.Services, arguments)
            : ActivatorUtilities.CreateInstance<TSqlite>(test.App.Services, arguments);

    public static async Task<DbConnection> OpenAsync(TestApp test) =>
        IsPostgres(test) ? await test.Get<PgDb>().OpenAsync() : await test.Get<Db>().OpenAsync();

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
