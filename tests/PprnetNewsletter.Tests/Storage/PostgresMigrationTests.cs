using Dapper;
using Npgsql;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Storage.Postgres;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Storage;

public sealed class PostgresMigrationTests
{
    [Fact]
    public async Task An_app_on_postgres_creates_the_whole_schema_with_real_timestamps()
    {
        await using var app = await TestApp.CreateAsync(await PostgresServer.ConfigAsync());

        await using var connection = await app.Get<PgDb>().OpenAsync();
        var versions = (await connection.QueryAsync<int>("SELECT version FROM schema_version ORDER BY version")).ToList();
        Assert.Equal(PgMigrator.Scripts.Select(s => s.Version), versions);
        var type = await connection.ExecuteScalarAsync<string>(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'deliveries' AND column_name = 'lease_until'");
        Assert.Equal("timestamp with time zone", type);
        Assert.Equal(36, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM topics"));
    }

    [Fact]
    public async Task Instances_starting_together_apply_each_script_once()
    {
        var config = await PostgresServer.ConfigAsync();
        var apps = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => TestApp.CreateAsync(config)));
        try
        {
            await using var connection = await apps[0].Get<PgDb>().OpenAsync();
            Assert.Equal(PgMigrator.Scripts.Count, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM schema_version"));
            Assert.Equal(0, await apps[1].Get<ISchemaMigrator>().MigrateAsync());
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
    public async Task A_timestamp_round_trips_through_timestamptz_as_the_same_instant()
    {
        await using var app = await TestApp.CreateAsync(await PostgresServer.ConfigAsync());
        await using var connection = await app.Get<PgDb>().OpenAsync();
        var instant = new DateTimeOffset(2031, 5, 1, 9, 30, 15, 123, TimeSpan.FromHours(2)).AddTicks(4560);

        var back = await connection.ExecuteScalarAsync<DateTimeOffset>("SELECT @instant::timestamptz", new { instant });

        Assert.Equal(instant.UtcTicks / 10 * 10, back.UtcTicks); // PostgreSQL keeps microseconds
        Assert.Equal(TimeSpan.Zero, back.Offset);
    }

    [Fact]
    public async Task The_consent_ledger_refuses_deletes_and_rewrites()
    {
        await using var app = await TestApp.CreateAsync(await PostgresServer.ConfigAsync());
        await using var connection = await app.Get<PgDb>().OpenAsync();
        var id = await connection.ExecuteScalarAsync<long>(
            "INSERT INTO consent_events (event, source, occurred_at, ip) VALUES ('subscribed', 'form', now(), '127.0.0.1') RETURNING id");

        await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("DELETE FROM consent_events WHERE id = @id", new { id }));
        await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("UPDATE consent_events SET event = 'erased' WHERE id = @id", new { id }));
        // Erasure may clear the personal columns.
        Assert.Equal(1, await connection.ExecuteAsync("UPDATE consent_events SET ip = NULL, user_agent = NULL WHERE id = @id", new { id }));
    }

    [Fact]
    public async Task Postgres_without_a_connection_string_is_refused_at_start_saying_what_to_set()
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => TestApp.CreateAsync(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "Postgres",
            ["Storage:ConnectionString"] = "",
        }));
        Assert.Contains("Storage:ConnectionString is required when Storage:Provider is Postgres", e.Message);
    }
}
