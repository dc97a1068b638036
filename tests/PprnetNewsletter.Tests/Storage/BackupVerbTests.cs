using System.Security.Cryptography;
using Dapper;
using Microsoft.Data.Sqlite;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Delivery.DeliveryTestData;

namespace PprnetNewsletter.Tests.Storage;

public sealed class BackupVerbTests
{
    static readonly Dictionary<string, string?> NoConfig = [];

    static readonly DateTimeOffset Seeded = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_backup_taken_while_subscribers_are_written_is_a_whole_database_and_an_existing_file_is_kept_without_force()
    {
        await using var test = await TestApp.CreateAsync();
        await SeedEditionAsync(test, "2026-10");
        await SeedEditionAsync(test, "2026-11");
        await AddSubscribersAsync(test, Enumerable.Range(0, 20_000).Select(i => $"seed{i}@example.org"));
        var before = await CountAsync(test.DatabasePath);
        var file = Path.Combine(test.Folder, "backup.db");

        // Another process writes subscribers, one transaction each, all the while the backup runs.
        using var stop = new CancellationTokenSource();
        var writer = WriteUntilAsync(test, stop.Token);
        var run = await PprnetProcess.RunAsync(test, NoConfig, "backup", file);
        await stop.CancelAsync();
        var written = await writer;
        var after = await CountAsync(test.DatabasePath);

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.True(written > 0);
        Assert.Equal("ok", await ScalarAtAsync<string>(file, "PRAGMA integrity_check"));
        var copied = await CountAsync(file);
        Assert.InRange(copied, before, after);
        Assert.Contains($"to {file}: {new FileInfo(file).Length:N0} bytes, {copied:N0} subscribers, 2 editions.", run.Out);
        Assert.False(File.Exists(file + "-wal"));

        // Once the writes are over, a copy has exactly the live database's counts (--force replaces the older copy).
        var again = await PprnetProcess.RunAsync(test, NoConfig, "backup", file, "--force");
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Equal(after, await CountAsync(file));
        Assert.Equal(2, await ScalarAtAsync<long>(file, "SELECT count(*) FROM editions"));

        var kept = await File.ReadAllBytesAsync(file);
        var refused = await PprnetProcess.RunAsync(test, NoConfig, "backup", file);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("exists already and is kept as it is; choose another name, or add --force to replace it", refused.Error);
        Assert.Equal(SHA256.HashData(kept), SHA256.HashData(await File.ReadAllBytesAsync(file)));
        Assert.Empty(Directory.GetFiles(test.Folder, "*.partial"));
    }

    [Fact]
    public async Task With_postgres_backup_says_to_use_pg_dump_for_that_database_and_never_prints_the_password()
    {
        await using var test = await TestApp.CreateAsync();
        var config = await PostgresServer.ConfigAsync();
        var server = await PostgresServer.GetAsync();
        var database = new Npgsql.NpgsqlConnectionStringBuilder(config["Storage:ConnectionString"]).Database;
        config["Storage:ConnectionString"] += ";Password=not-to-be-printed";

        var run = await PprnetProcess.RunAsync(test, config, "backup", "pprnet.dump");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"pg_dump --format=custom --host=127.0.0.1 --port={server.Port} --username=postgres --file=pprnet.dump {database}", run.Error);
        Assert.DoesNotContain("not-to-be-printed", run.Error + run.Out);
        Assert.False(File.Exists(Path.Combine(test.Folder, "pprnet.dump")));
    }

    [Fact]
    public void The_pg_dump_command_quotes_what_a_shell_would_split()
    {
        Assert.Equal("pg_dump --format=custom --host=db.example.org --port=5433 --username='ann o'\\''neil' --file='my backups/x.dump' pprnet",
            DatabaseBackup.PgDumpCommand("Host=db.example.org;Port=5433;Username=ann o'neil;Password=p;Database=pprnet", "my backups/x.dump"));
    }

    static async Task AddSubscribersAsync(TestApp test, IEnumerable<string> emails)
    {
        await using var connection = await test.Get<Db>().OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("""
            INSERT INTO subscribers (email, name, status, all_topics, created_at, confirmed_at, updated_at)
            VALUES (@email, 'Reader', 'confirmed', 1, @at, @at, @at)
            """, emails.Select(email => new { email, at = Seeded }), tx);
        await tx.CommitAsync();
    }

    static async Task<int> WriteUntilAsync(TestApp test, CancellationToken stop)
    {
        var n = 0;
        while (!stop.IsCancellationRequested)
        {
            await AddSubscribersAsync(test, [$"during{n}@example.org"]);
            n++;
            await Task.Delay(5, CancellationToken.None);
        }
        return n;
    }

    static Task<long> CountAsync(string path) => ScalarAtAsync<long>(path, "SELECT count(*) FROM subscribers");

    static async Task<T> ScalarAtAsync<T>(string path, string sql)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync();
        return (await connection.ExecuteScalarAsync<T>(sql))!;
    }
}
