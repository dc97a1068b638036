using Dapper;
using Npgsql;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Storage;

/// <summary><c>pprnet storage copy --to</c>: a SQLite database into an empty PostgreSQL database.</summary>
public sealed class StorageCopyTests
{
    const string Month = "2023-03";

    [Fact]
    public async Task A_list_built_through_the_service_arrives_whole_with_ids_timestamps_and_the_consent_ledger()
    {
        await using var test = await TestApp.CreateAsync();
        await SampleContent.ImportAsync(test);
        Assert.Equal(ExitCodes.Success, await test.RunCliAsync("subscribers", "add", "ann@example.org", "--name", "Ann", "--topics", "empathy"));
        Assert.Equal(ExitCodes.Success, await test.RunCliAsync("subscribers", "add", "bo@example.org", "--all-topics"));
        Assert.Equal(ExitCodes.Success, await test.RunCliAsync("subscribers", "add", "cy@example.org", "--all-topics"));
        Assert.Equal(ExitCodes.Success, await test.RunCliAsync("digest", "send", Month));
        await using (var sqlite = await test.Get<Db>().OpenAsync())
        {
            // A deleted person: their consent events stay, without them, and their id is never given again.
            await sqlite.ExecuteAsync("DELETE FROM subscribers WHERE email = 'cy@example.org'");
        }
        var target = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();

        Assert.Equal(ExitCodes.Success, await test.RunCliAsync("storage", "copy", "--to", target));

        await using var source = await test.Get<Db>().OpenAsync();
        await using var pg = new NpgsqlConnection(target);
        await pg.OpenAsync();
        foreach (var table in new[] { "topics", "editions", "summaries", "summary_topics", "subscribers", "subscriber_topics",
                     "consent_events", "deliveries", "delivery_attempts" })
        {
            Assert.Equal(await source.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table}"), await pg.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table}"));
        }
        Assert.Equal(
            (await source.QueryAsync<string>("SELECT state || ':' || count(*) FROM deliveries GROUP BY state ORDER BY state")).ToList(),
            (await pg.QueryAsync<string>("SELECT state || ':' || count(*) FROM deliveries GROUP BY state ORDER BY state")).ToList());
        var sqliteSent = (await source.QueryAsync<string>("SELECT sent_at FROM deliveries WHERE sent_at IS NOT NULL ORDER BY id")).Select(SqlTime.FromText).ToList();
        var pgSent = (await pg.QueryAsync<DateTimeOffset>("SELECT sent_at FROM deliveries WHERE sent_at IS NOT NULL ORDER BY id")).ToList();
        Assert.Equal(sqliteSent.Select(t => t.UtcTicks / 10), pgSent.Select(t => t.UtcTicks / 10));
        Assert.Equal(
            (await source.QueryAsync<string>("SELECT id || ':' || coalesce(subscriber_id, '-') || ':' || event || ':' || source FROM consent_events ORDER BY id")).ToList(),
            (await pg.QueryAsync<string>("SELECT id || ':' || coalesce(subscriber_id::text, '-') || ':' || event || ':' || source FROM consent_events ORDER BY id")).ToList());
        Assert.True(await pg.ExecuteScalarAsync<bool>("SELECT all_topics FROM subscribers WHERE email = 'bo@example.org'"));

        // The next subscriber gets an id above every id SQLite ever handed out, the deleted person's included.
        var highest = await source.ExecuteScalarAsync<long>("SELECT high FROM subscriber_id_watermark");
        var next = await pg.ExecuteScalarAsync<long>(
            "INSERT INTO subscribers (email, status, created_at, updated_at) VALUES ('dee@example.org', 'pending', now(), now()) RETURNING id");
        Assert.Equal(highest + 1, next);
    }

    [Fact]
    public async Task A_hundred_thousand_subscribers_and_a_sent_edition_reproduce_every_count()
    {
        await using var test = await TestApp.CreateAsync();
        await SampleContent.ImportAsync(test);
        await using (var sqlite = await test.Get<Db>().OpenAsync())
        {
            await using var tx = await sqlite.BeginTransactionAsync();
            await sqlite.ExecuteAsync("""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
                INSERT INTO subscribers (id, email, name, status, all_topics, created_at, confirmed_at, updated_at)
                SELECT i, 'person' || i || '@example.org', 'Person ' || i, 'confirmed', i % 2, '2023-01-01T00:00:00.0000000Z',
                       '2023-01-01T00:00:00.0000000Z', '2023-01-01T00:00:00.0000000Z' FROM n;
                UPDATE subscriber_id_watermark SET high = 100000;
                INSERT INTO subscriber_topics (subscriber_id, topic_id) SELECT id, 1 + id % 36 FROM subscribers WHERE all_topics = 0;
                INSERT INTO consent_events (subscriber_id, event, source, occurred_at, ip)
                SELECT id, 'confirmed', 'csv', created_at, NULL FROM subscribers;
                INSERT INTO deliveries (edition_id, subscriber_id, state, attempts, created_at, updated_at, sent_at, message_id)
                SELECT e.id, s.id, 'sent', 1, '2023-03-01T08:00:00.0000000Z', '2023-03-01T08:00:00.0000000Z', '2023-03-01T08:00:01.1234567Z',
                       '<' || s.id || '@pprnet.example.org>'
                FROM subscribers s, editions e WHERE e.month = '2023-03';
                UPDATE editions SET status = 'sent', sent_at = '2023-03-01T09:00:00.0000000Z' WHERE month = '2023-03';
                """, transaction: tx);
            await tx.CommitAsync();
        }
        var target = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();

        Assert.Equal(ExitCodes.Success, await test.RunCliAsync("storage", "copy", "--to", target));

        await using var source = await test.Get<Db>().OpenAsync();
        await using var pg = new NpgsqlConnection(target);
        await pg.OpenAsync();
        var tables = (await source.QueryAsync<string>(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('schema_version', 'subscriber_id_watermark')")).ToList();
        Assert.Contains("bounce_reports", tables);
        foreach (var table in tables)
        {
            Assert.True(await source.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table}") == await pg.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table}"), table);
        }
        Assert.Equal(100_000, await pg.ExecuteScalarAsync<long>("SELECT count(*) FROM deliveries WHERE state = 'sent'"));
        Assert.Equal("sent", await pg.ExecuteScalarAsync<string>("SELECT status FROM editions WHERE month = '2023-03'"));
    }

    [Fact]
    public async Task A_database_that_is_not_empty_is_refused_and_left_as_it_was()
    {
        await using var test = await TestApp.CreateAsync();
        Assert.Equal(ExitCodes.Success, await test.RunCliAsync("subscribers", "add", "ann@example.org", "--all-topics"));
        var target = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        Assert.Equal(ExitCodes.Success, await test.RunCliAsync("storage", "copy", "--to", target));

        Assert.Equal(ExitCodes.BadInput, await test.RunCliAsync("storage", "copy", "--to", target));

        await using var pg = new NpgsqlConnection(target);
        await pg.OpenAsync();
        Assert.Equal(1, await pg.ExecuteScalarAsync<long>("SELECT count(*) FROM subscribers"));
        Assert.Equal(1, await pg.ExecuteScalarAsync<long>("SELECT count(*) FROM consent_events"));
    }

    [Fact]
    public async Task A_table_the_postgres_schema_lacks_stops_the_copy_before_anything_is_written()
    {
        await using var test = await TestApp.CreateAsync();
        Assert.Equal(ExitCodes.Success, await test.RunCliAsync("subscribers", "add", "ann@example.org", "--all-topics"));
        await using (var sqlite = await test.Get<Db>().OpenAsync())
        {
            await sqlite.ExecuteAsync("CREATE TABLE local_notes (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO local_notes (note) VALUES ('x');");
        }
        var target = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();

        Assert.Equal(ExitCodes.Failure, await test.RunCliAsync("storage", "copy", "--to", target));

        await using var pg = new NpgsqlConnection(target);
        await pg.OpenAsync();
        Assert.Equal(0, await pg.ExecuteScalarAsync<long>("SELECT count(*) FROM subscribers"));
    }

    [Theory]
    [InlineData("not a connection string")]
    [InlineData("Host=127.0.0.1;Nonsense=1")]
    public async Task A_malformed_connection_string_is_bad_input(string to)
    {
        await using var test = await TestApp.CreateAsync();
        Assert.Equal(ExitCodes.BadInput, await test.RunCliAsync("storage", "copy", "--to", to));
    }
}
