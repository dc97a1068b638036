using Dapper;
using Microsoft.Data.Sqlite;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Storage;

public class MigratorTests
{
    [Fact]
    public async Task An_empty_file_gets_every_migration_and_a_rerun_applies_nothing()
    {
        await using var test = await TestApp.CreateAsync();
        var migrator = test.Get<Migrator>();

        Assert.Equal(0, await migrator.MigrateAsync());   // CreateAsync already migrated the new file

        await using var connection = await test.Get<Db>().OpenAsync();
        var versions = (await connection.QueryAsync<int>("SELECT version FROM schema_version ORDER BY version")).ToList();
        Assert.Equal(Migrator.Scripts.Select(s => s.Version), versions);
        Assert.Equal("wal", await connection.ExecuteScalarAsync<string>("PRAGMA journal_mode"));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("PRAGMA foreign_keys"));
    }

    [Fact]
    public async Task Every_connection_new_or_pooled_has_the_storage_settings()
    {
        await using var test = await TestApp.CreateAsync(new Dictionary<string, string?> { ["Storage:BusyTimeout"] = "00:00:07" });
        var db = test.Get<Db>();
        // Three at once force new physical connections; the later opens reuse them from the pool.
        for (var round = 0; round < 2; round++)
        {
            var connections = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => db.OpenAsync()));
            foreach (var connection in connections)
            {
                Assert.Equal(1, await connection.ExecuteScalarAsync<int>("PRAGMA synchronous"));   // NORMAL
                Assert.Equal(7000, await connection.ExecuteScalarAsync<int>("PRAGMA busy_timeout"));
                Assert.Equal(1, await connection.ExecuteScalarAsync<int>("PRAGMA foreign_keys"));
            }
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Two_processes_migrating_one_new_file_at_once_apply_each_script_once()
    {
        await using var first = await TestApp.CreateAsync();
        var path = Path.Combine(first.Folder, "shared.db");
        var config = new Dictionary<string, string?> { ["Storage:Database"] = path };
        var apps = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => TestApp.CreateAsync(config))));
        try
        {
            await using var connection = new SqliteConnection($"Data Source={path}");
            await connection.OpenAsync();
            var rows = await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM schema_version");
            Assert.Equal(Migrator.Scripts.Count, rows);
            Assert.Equal(36, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM topics"));
        }
        finally
        {
            foreach (var app in apps)
            {
                await app.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Consent_events_cannot_be_deleted_or_rewritten()
    {
        await using var test = await TestApp.CreateAsync();
        await using var connection = await test.Get<Db>().OpenAsync();
        await connection.ExecuteAsync("""
            INSERT INTO subscribers (email, name, status, created_at, updated_at) VALUES ('a@example.org', 'A', 'confirmed', 'now', 'now');
            INSERT INTO consent_events (subscriber_id, event, source, occurred_at, ip) VALUES (1, 'subscribed', 'admin', 'now', '127.0.0.1');
            """);

        await Assert.ThrowsAsync<SqliteException>(() => connection.ExecuteAsync("DELETE FROM consent_events"));
        await Assert.ThrowsAsync<SqliteException>(() => connection.ExecuteAsync("UPDATE consent_events SET event = 'confirmed'"));
        // Erasure may clear the personal columns.
        await connection.ExecuteAsync("UPDATE consent_events SET ip = NULL, user_agent = NULL");
        await connection.ExecuteAsync("DELETE FROM subscribers");
        Assert.Null(await connection.ExecuteScalarAsync<long?>("SELECT subscriber_id FROM consent_events"));
    }
}
