using System.Diagnostics;
using System.Globalization;
using Dapper;
using Npgsql;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Bench;

/// <summary>
/// <c>bench send --storage postgres</c>: the same engine on PostgreSQL. Starts a throwaway cluster (durable settings,
/// as a production server has them), seeds N subscribers, times the enqueue of one edition on its own, then sends
/// editions to smtp-sink from one `digest send` process and from two at once (two editions: one edition has one run,
/// so a second process on the same edition would wait for the first), side by side in one run.
/// </summary>
static class PostgresSendBench
{
    public static async Task<IReadOnlyList<string>> RunAsync(int count, int connections, bool enqueueOnly, CancellationToken ct)
    {
        if (count < 1 || connections is < 1 or > 64)
        {
            throw new UsageException("--subscribers must be at least 1 and --connections between 1 and 64.");
        }
        var c = CultureInfo.InvariantCulture;
        var report = new List<string>
        {
            string.Create(c, $"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; PostgreSQL on the same machine."),
        };
        var server = await PostgresServer.StartAsync(durable: true);
        var folder = Path.Combine(Path.GetTempPath(), "pprnet-bench-" + Guid.NewGuid().ToString("N"));
        var port = SendBench.FreePort();
        using var sink = SendBench.StartSink(port);
        try
        {
            var config = SendBench.RelayConfig(folder, port, connections);
            config["Storage:Provider"] = "Postgres";
            config["Storage:ConnectionString"] = await server.CreateDatabaseAsync();
            config["Digest:CompiledTemplatesPath"] = Path.Combine(folder, "compiled-templates");
            await using var app = PprnetNewsletter.Program.BuildApp(serve: false, config);
            await app.InitializeAsync(ct);
            var services = app.Services;
            await using var connection = new NpgsqlConnection(config["Storage:ConnectionString"]);
            await connection.OpenAsync(ct);

            var watch = Stopwatch.StartNew();
            await SeedAsync(connection, count, ct);
            report.Add(string.Create(c, $"Seeded {count:N0} subscribers with random topic subsets in {watch.Elapsed.TotalSeconds:N1} s."));
            await services.GetRequiredService<SummaryImporter>().ImportAsync(Path.Combine(services.GetRequiredService<IHostEnvironment>().ContentRootPath, "content"), ct);
            var months = (await connection.QueryAsync<string>(
                "SELECT e.month FROM editions e WHERE EXISTS (SELECT 1 FROM summaries s WHERE s.edition_id = e.id) ORDER BY e.month DESC")).ToList();
            if (months.Count < 3)
            {
                throw new UsageException("The benchmark sends three editions of the repository's sample content (content/): fewer were found.");
            }

            // The enqueue on its own: the whole list into the ledger in one transaction.
            var store = services.GetRequiredService<IDeliveryStore>();
            var first = (await store.FindEditionAsync(months[0], ct))!;
            var skips = (await services.GetRequiredService<IEditionMessageFactory>().PrepareAsync(months[0], ct))!.SkipsWithoutMatchingTopics;
            watch.Restart();
            var enqueued = (await store.StartAsync(first.Id, DateTimeOffset.UtcNow, skips, ct))!;
            report.Add(string.Create(c, $"Enqueue ({months[0]}): {enqueued.Rows:N0} ledger rows ({enqueued.Skipped:N0} settled as skipped) in {watch.Elapsed.TotalSeconds:N2} s."));
            if (enqueueOnly)
            {
                return report;
            }

            // One process sends that edition (it resumes the started edition).
            var one = await SendBench.SendInOwnProcessAsync(config, months[0], ct);
            var oneSent = await SentAsync(connection, months[0], ct);
            var oneRate = oneSent / one.Wall.TotalSeconds;
            report.Add(string.Create(c, $"One `digest send` process ({months[0]}): {oneSent:N0} sent in {one.Wall.TotalSeconds:N1} s (start-up, enqueue " +
                $"and all) = {oneRate:N0} messages/s; peak RSS {one.PeakRssMb:N0} MB."));

            // Two processes at once, one edition each, on the same database and the same relay.
            watch.Restart();
            var both = await Task.WhenAll(
                SendBench.SendInOwnProcessAsync(config, months[1], ct),
                SendBench.SendInOwnProcessAsync(config, months[2], ct));
            var wall = watch.Elapsed;
            var twoSent = await SentAsync(connection, months[1], ct) + await SentAsync(connection, months[2], ct);
            var twoRate = twoSent / wall.TotalSeconds;
            report.Add(string.Create(c, $"Two `digest send` processes at once ({months[1]}, {months[2]}): {twoSent:N0} sent in {wall.TotalSeconds:N1} s " +
                $"= {twoRate:N0} messages/s together; peak RSS {both[0].PeakRssMb:N0} and {both[1].PeakRssMb:N0} MB."));
            report.Add(string.Create(c, $"Ratio: two processes = {twoRate / oneRate:N2} × one process."));
            return report;
        }
        finally
        {
            if (!sink.HasExited)
            {
                sink.Kill();
            }
            NpgsqlConnection.ClearAllPools();
            server.Stop();
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary>Subscribers in one statement each: 10% take every topic, the rest about one topic in three.</summary>
    static async Task SeedAsync(NpgsqlConnection connection, int count, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO subscribers (email, name, status, all_topics, created_at, confirmed_at, updated_at)
            SELECT 'reader' || i || '@bench.example.org', 'Reader ' || i, 'confirmed', i % 10 = 0, now(), now(), now()
            FROM generate_series(1, @count) AS i
            """, new { count }, tx, commandTimeout: 0, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO subscriber_topics (subscriber_id, topic_id)
            SELECT s.id, t.id FROM subscribers s CROSS JOIN topics t WHERE NOT s.all_topics AND random() < 1.0 / 3
            """, transaction: tx, commandTimeout: 0, cancellationToken: ct));
        await tx.CommitAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("ANALYZE subscribers, subscriber_topics", commandTimeout: 0, cancellationToken: ct));
        // The seed's gigabytes of dirty pages are written out now, not by a checkpoint in the middle of the timed enqueue.
        await connection.ExecuteAsync(new CommandDefinition("CHECKPOINT", commandTimeout: 0, commandType: System.Data.CommandType.Text, cancellationToken: ct));
    }

    static Task<long> SentAsync(NpgsqlConnection connection, string month, CancellationToken ct) =>
        connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            SELECT count(*) FROM deliveries d JOIN editions e ON e.id = d.edition_id WHERE e.month = @month AND d.state = 'sent'
            """, new { month }, cancellationToken: ct));
}
