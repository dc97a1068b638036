using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Dapper;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Bench;

/// <summary>
/// <c>bench send</c>: the whole engine end to end on this machine. Seeds N subscribers with random topic subsets
/// into a throw-away database, imports the repository's content, enqueues and sends an edition to Postfix's
/// smtp-sink on 127.0.0.1, and in the same run measures what the loopback allows: smtp-source's raw rate and a bare
/// MailKit send of pre-built messages, at the same message size and number of connections.
/// </summary>
static class SendBench
{
    const string Sink = "/usr/sbin/smtp-sink";
    const string Source = "/usr/sbin/smtp-source";
    const int BareMessages = 20_000;

    public static Command Verb(IHost app)
    {
        var subscribers = new Option<int>("--subscribers") { Description = "How many subscribers to seed and send to.", DefaultValueFactory = _ => 100_000 };
        var connections = new Option<int>("--connections") { Description = "SMTP connections (Smtp:MaxConnections).", DefaultValueFactory = _ => 4 };
        var storage = new Option<StorageProvider>("--storage")
        {
            Description = "Sqlite (a temporary file) or Postgres (a throwaway cluster of Debian's postgresql, started and stopped by the benchmark).",
            DefaultValueFactory = _ => StorageProvider.Sqlite,
        };
        var enqueueOnly = new Option<bool>("--enqueue-only")
        {
            Description = "With --storage postgres: time the enqueue of one edition and stop (no sends).",
        };
        var bench = new Command("send", "Seed N subscribers in a temporary database, send an edition to smtp-sink on 127.0.0.1 and report messages/s and peak memory.")
        {
            subscribers, connections, storage, enqueueOnly,
        };
        bench.SetAction(async (parse, ct) =>
        {
            var lines = parse.GetValue(storage) == StorageProvider.Postgres
                ? await PostgresSendBench.RunAsync(parse.GetValue(subscribers), parse.GetValue(connections), parse.GetValue(enqueueOnly), ct)
                : await RunAsync(app, parse.GetValue(subscribers), parse.GetValue(connections), ct);
            foreach (var line in lines)
            {
                Console.WriteLine(line);
            }
            return ExitCodes.Success;
        });
        return bench;
    }

    static async Task<IReadOnlyList<string>> RunAsync(IHost host, int count, int connections, CancellationToken ct)
    {
        if (count < 1 || connections is < 1 or > 64)
        {
            throw new UsageException("--subscribers must be at least 1 and --connections between 1 and 64.");
        }
        if (!File.Exists(Sink) || !File.Exists(Source))
        {
            throw new UsageException($"The benchmark needs Postfix's {Sink} and {Source}: apt-get install postfix.");
        }
        var c = CultureInfo.InvariantCulture;
        var report = new List<string>
        {
            string.Create(c, $"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}."),
        };
        var folder = Path.Combine(Path.GetTempPath(), "pprnet-bench-" + Guid.NewGuid().ToString("N"));
        var port = FreePort();
        using var sink = StartSink(port);
        try
        {
            var config = RelayConfig(folder, port, connections);
            config["Storage:Database"] = Path.Combine(folder, "bench.db");
            await using var app = PprnetNewsletter.Program.BuildApp(serve: false, config);
            await app.InitializeAsync(ct);
            var services = app.Services;
            var db = services.GetRequiredService<Db>();

            var watch = Stopwatch.StartNew();
            await SeedAsync(db, count, ct);
            report.Add(string.Create(c, $"Seeded {count:N0} subscribers with random topic subsets in {watch.Elapsed.TotalSeconds:N1} s."));
            await services.GetRequiredService<SummaryImporter>().ImportAsync(Path.Combine(services.GetRequiredService<IHostEnvironment>().ContentRootPath, "content"), ct);
            var ledger = services.GetRequiredService<IDeliveryStore>();
            var month = (await LatestEditionAsync(db, ct))
                ?? throw new UsageException("No edition in content/: the benchmark sends the repository's sample content.");
            var edition = (await ledger.FindEditionAsync(month, ct))!;

            // Compiling the Razor templates (Roslyn) is a one-off cost, paid once per template change and cached on
            // disk: preparing the edition here fills that cache, so the send below starts as every later one does.
            var prepared = (await services.GetRequiredService<IEditionMessageFactory>().PrepareAsync(month, ct))!;

            // The send is a real `digest send` process, as an operator runs it: its memory is the product's alone, not
            // this harness's (which also holds a host for seeding and the samples for the sends below).
            var sinkCpu = sink.TotalProcessorTime;
            var steal = StealTime();
            var send = await SendInOwnProcessAsync(config, month, ct);
            sinkCpu = sink.TotalProcessorTime - sinkCpu;
            steal = StealTime() - steal;
            var counts = (await ledger.CountsAsync(edition.Id, topReasons: 3, ct)).ByState;
            long Count(string state) => counts.TryGetValue(state, out var n) ? n : 0;
            var sent = Count(DeliveryState.Sent);
            var rows = counts.Values.Sum();
            // End to end is from the moment the list was enqueued (the edition's start) to the last message sent, as
            // the ledger recorded them: settling the rows with nothing to send is part of the work.
            var (firstSent, elapsed) = await SendTimesAsync(db, edition.Id, ct);
            var endToEnd = sent / elapsed.TotalSeconds;
            report.Add(string.Create(c,
                $"End to end ({month}, {connections} connections, `digest send` in its own process): {sent:N0} sent, {Count(DeliveryState.Skipped):N0} skipped " +
                $"(no matching topic), {Count(DeliveryState.Failed) + Count(DeliveryState.Deferred):N0} not delivered, in {elapsed.TotalSeconds:N1} s from the " +
                $"enqueue to the last message = {endToEnd:N0} messages/s ({rows:N0} ledger rows, {rows / elapsed.TotalSeconds:N0} rows/s)."));
            report.Add(string.Create(c, $"Enqueue in that process: {rows:N0} ledger rows in at most " +
                $"{firstSent.TotalSeconds:N2} s (from the edition's start to its first message sent)."));
            report.Add(string.Create(c, $"Peak RSS of the `digest send` process: {send.PeakRssMb:N0} MB (whole process, start-up included; " +
                $"{send.Wall.TotalSeconds:N1} s from start to exit)."));
            // What the machine gave: on a shared host these swing from run to run, and the rates with them.
            var stolen = steal is { } st
                ? string.Create(c, $", and the hypervisor took {st.TotalMicroseconds / Math.Max(1, sent):N0} µs per message from the machine (steal " +
                    $"time: beyond a few tens of µs the host is busy, and the figures do not compare with a quiet run's)")
                : "";
            report.Add(string.Create(c, $"During the send smtp-sink used {sinkCpu.TotalMicroseconds / Math.Max(1, sent):N0} µs of CPU per message{stolen}."));

            // The enqueue on its own, in this process: another edition for the same subscribers, into a ledger that
            // already holds the first one's rows (as every month after the first does).
            if (await LatestEditionAsync(db, ct, except: month) is { } otherMonth
                && await ledger.FindEditionAsync(otherMonth, ct) is { } other)
            {
                var otherMessages = (await services.GetRequiredService<IEditionMessageFactory>().PrepareAsync(other.Month, ct))!;
                watch.Restart();
                var enqueued = (await ledger.StartAsync(other.Id, DateTimeOffset.UtcNow, otherMessages.SkipsWithoutMatchingTopics, ct))!;
                report.Add(string.Create(c, $"Enqueue ({other.Month}, same subscribers): {enqueued.Rows:N0} ledger rows ({enqueued.Skipped:N0} settled as " +
                    $"skipped: no matching topic) in two INSERT … SELECT statements, {watch.Elapsed.TotalSeconds:N2} s."));
            }

            var recipients = await MatchingRecipientsAsync(db, prepared, ct);
            var samples = await SampleMessagesAsync(prepared, recipients, ct);
            var size = (int)samples.Average(m => m.Length);
            var bareCpu = Process.GetCurrentProcess().TotalProcessorTime;
            var bare = BareMailKit(port, connections, samples, ct);
            bareCpu = Process.GetCurrentProcess().TotalProcessorTime - bareCpu;
            var raw = await SmtpSourceAsync(port, connections, size, ct);
            var unledgered = WithoutLedger(services, prepared, recipients, connections, ct);
            report.Add(string.Create(c, $"Average message size: {size / 1024.0:N1} KB."));
            report.Add(string.Create(c, $"Bare MailKit, {BareMessages:N0} pre-built messages on {connections} NoDelay connections: {bare:N0} messages/s."));
            report.Add(string.Create(c, $"smtp-source, {connections} sessions, same size: {raw:N0} messages/s."));
            report.Add(string.Create(c, $"Compose and send through the engine's transport and resilience pipeline, without the ledger: {unledgered:N0} messages/s."));
            // CPU time per message says where a send's cost is, independent of how busy the machine was.
            report.Add(string.Create(c, $"CPU per message sent: `digest send` {send.Cpu.TotalMicroseconds / Math.Max(1, sent):N0} µs (start-up included), " +
                $"bare MailKit {bareCpu.TotalMicroseconds / BareMessages:N0} µs."));
            if (send.WrittenBytes is { } written)
            {
                // Unlike time, this hardly varies between runs: the ledger's cost on disk (write-ahead log and checkpoints).
                report.Add(string.Create(c, $"Written to disk by the `digest send` process: {written / 1e6:N0} MB, " +
                    $"{written / 1024.0 / Math.Max(1, sent):N1} KB per message sent."));
            }
            report.Add(string.Create(c, $"Ratios: end to end = {endToEnd / bare:P0} of bare MailKit, {endToEnd / raw:P0} of smtp-source, {endToEnd / unledgered:P0} of the engine without the ledger."));
            return report;
        }
        finally
        {
            if (!sink.HasExited)
            {
                sink.Kill();
            }
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary>
    /// What a child process used: wall time, CPU (user + system), its peak resident memory and the bytes it wrote to
    /// storage (null where the kernel does not say: /proc/PID/io is Linux's).
    /// </summary>
    internal sealed record ProcessUse(TimeSpan Wall, TimeSpan Cpu, long PeakRssMb, long? WrittenBytes);

    /// <summary>
    /// Runs <c>digest send MONTH</c> as its own process with <paramref name="config"/> as PPRNET_ variables, sampling
    /// its peak resident memory and CPU time while it runs.
    /// </summary>
    internal static async Task<ProcessUse> SendInOwnProcessAsync(IReadOnlyDictionary<string, string?> config, string month, CancellationToken ct)
    {
        // The product's own binary, built beside this one (a project reference): `dotnet pprnet.dll`.
        var dotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(typeof(PprnetNewsletter.Program).Assembly.Location);
        foreach (var arg in new[] { "digest", "send", month })
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in config)
        {
            start.Environment[ConfigurationSetup.EnvironmentVariable(key)] = value;
        }
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        var exited = process.WaitForExitAsync(ct);
        long peak = 0;
        long? written = null;
        var cpu = TimeSpan.Zero;
        while (!exited.IsCompleted)
        {
            // All only grow (on Linux the peak is the kernel's VmHWM); the last sample misses at most the final 50 ms.
            try
            {
                process.Refresh();
                peak = Math.Max(peak, process.PeakWorkingSet64 / (1024 * 1024));
                cpu = process.TotalProcessorTime;
                written = WrittenBytes(process.Id) ?? written;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
            {
                // It exited between the check and the read.
            }
            await Task.WhenAny(exited, Task.Delay(50, ct));
        }
        await exited;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"digest send {month} exited with {process.ExitCode}: {await error}{await output}");
        }
        return new ProcessUse(watch.Elapsed, cpu, peak, written);
    }

    /// <summary>
    /// CPU time the hypervisor has taken from this machine since boot, all cores together: the "steal" column of the
    /// cpu line of /proc/stat, in clock ticks of 10 ms (USER_HZ is 100 on Linux). Null where there is no such file.
    /// </summary>
    static TimeSpan? StealTime()
    {
        const string stat = "/proc/stat";
        if (!File.Exists(stat))
        {
            return null;
        }
        // cpu  user nice system idle iowait irq softirq steal ...
        var fields = File.ReadLines(stat).First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 8 && long.TryParse(fields[8], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ticks)
            ? TimeSpan.FromMilliseconds(ticks * 10)
            : null;
    }

    /// <summary>The "write_bytes" line of /proc/PID/io: what the process has caused to be written to storage so far.</summary>
    static long? WrittenBytes(int pid)
    {
        var io = $"/proc/{pid}/io";
        if (!File.Exists(io))
        {
            return null;
        }
        var line = File.ReadLines(io).FirstOrDefault(l => l.StartsWith("write_bytes:", StringComparison.Ordinal));
        return line is not null && long.TryParse(line.AsSpan("write_bytes:".Length), NumberStyles.Integer, CultureInfo.InvariantCulture, out var bytes)
            ? bytes
            : null;
    }

    /// <summary>
    /// From the edition's start (its enqueue) to the first and to the last message the ledger recorded as sent: the
    /// first bounds the enqueue from above (it adds one claim and one message).
    /// </summary>
    static async Task<(TimeSpan First, TimeSpan Last)> SendTimesAsync(Db db, long editionId, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        var (started, first, last) = await connection.QuerySingleAsync<(string, string, string)>(new CommandDefinition("""
            SELECT e.send_started_at, min(d.sent_at), max(d.sent_at)
            FROM editions e JOIN deliveries d ON d.edition_id = e.id AND d.state = 'sent' WHERE e.id = @editionId
            """, new { editionId }, cancellationToken: ct));
        return (SqlTime.FromText(first) - SqlTime.FromText(started), SqlTime.FromText(last) - SqlTime.FromText(started));
    }

    /// <summary>Subscribers in one statement each: 10% take every topic, the rest about one topic in three.</summary>
    static async Task SeedAsync(Db db, int count, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @count)
            INSERT INTO subscribers (email, name, status, all_topics, created_at, confirmed_at, updated_at)
            SELECT 'reader' || i || '@bench.example.org', 'Reader ' || i, 'confirmed', (i % 10 = 0), @now, @now, @now FROM n
            """, new { count, now = DateTimeOffset.UtcNow }, tx, commandTimeout: 0, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO subscriber_topics (subscriber_id, topic_id)
            SELECT s.id, t.id FROM subscribers s CROSS JOIN topics t WHERE s.all_topics = 0 AND abs(random()) % 3 = 0
            """, transaction: tx, commandTimeout: 0, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    /// <summary>The latest month with summaries, other than <paramref name="except"/> when given.</summary>
    static async Task<string?> LatestEditionAsync(Db db, CancellationToken ct, string? except = null)
    {
        await using var connection = await db.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<string?>(new CommandDefinition("""
            SELECT max(e.month) FROM editions e
            WHERE (@except IS NULL OR e.month <> @except) AND EXISTS (SELECT 1 FROM summaries s WHERE s.edition_id = e.id)
            """, new { except }, cancellationToken: ct));
    }

    /// <summary>A few hundred real messages of the edition, serialised, for the bare sends.</summary>
    static async Task<List<byte[]>> SampleMessagesAsync(IEditionMessages prepared, IReadOnlyList<Recipient> recipients, CancellationToken ct)
    {
        var samples = new List<byte[]>();
        foreach (var recipient in recipients.Take(500))
        {
            using var buffer = new MemoryStream();
            await prepared.Compose(recipient, 0)!.WriteToAsync(buffer, ct);
            samples.Add(buffer.ToArray());
        }
        return samples;
    }

    /// <summary>The first subscribers (up to 2,000) who get a message this month, for the sends outside the engine.</summary>
    static async Task<List<Recipient>> MatchingRecipientsAsync(Db db, IEditionMessages prepared, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        var rows = await connection.QueryAsync<(long Id, string Email, string Name, long AllTopics, string? Topics)>(new CommandDefinition("""
            SELECT s.id, s.email, s.name, s.all_topics, (SELECT group_concat(topic_id) FROM subscriber_topics t WHERE t.subscriber_id = s.id)
            FROM subscribers s ORDER BY s.id LIMIT 2000
            """, cancellationToken: ct));
        return [.. rows
            .Select(r => new Recipient(r.Id, r.Email, r.Name, r.AllTopics == 1, SqliteDeliveryStore.ParseIds(r.Topics)))
            .Where(recipient => prepared.Compose(recipient, 0) is not null)];
    }

    /// <summary>
    /// The engine's own compose, resilience pipeline and connection pool on the same recipients, on a thread per
    /// connection as the engine runs them, but no claims and no commits: what the ledger costs is the difference
    /// between this and the end-to-end rate.
    /// </summary>
    static double WithoutLedger(IServiceProvider services, IEditionMessages prepared, IReadOnlyList<Recipient> recipients,
        int connections, CancellationToken ct)
    {
        var transport = services.GetRequiredService<IMailTransport>();
        var resilience = services.GetRequiredService<DeliveryResilience>();
        return OnThreads(connections, (_, i) =>
        {
            using var message = prepared.Compose(recipients[i % recipients.Count], 0)!;
            resilience.Send(transport, message, ct);
        });
    }

    /// <summary>
    /// Pre-built messages straight through MailKit's synchronous send (the engine's) on NoDelay connections, a thread
    /// each: the ceiling for our transport.
    /// </summary>
    static double BareMailKit(int port, int connections, List<byte[]> samples, CancellationToken ct)
    {
        // MailKit prepares a message in place as it sends it: each connection sends its own copies.
        var clients = new SmtpClient[connections];
        var messages = new List<MimeMessage>[connections];
        for (var c = 0; c < connections; c++)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            socket.Connect(IPAddress.Loopback, port);
            clients[c] = new SmtpClient();
            clients[c].Connect(socket, "127.0.0.1", port, SecureSocketOptions.None, ct);
            messages[c] = samples.Select(b => MimeMessage.Load(new MemoryStream(b))).ToList();
        }
        var rate = OnThreads(connections, (c, i) => clients[c].Send(messages[c][i % samples.Count], ct));
        foreach (var client in clients)
        {
            client.Disconnect(true, ct);
            client.Dispose();
        }
        return rate;
    }

    /// <summary>
    /// Sends message 0 … <see cref="BareMessages"/>-1 as <paramref name="send"/>(thread, message) on that many threads of
    /// their own, each taking the next message when done with one; returns messages/s.
    /// </summary>
    static double OnThreads(int threads, Action<int, int> send)
    {
        var next = -1;
        var watch = Stopwatch.StartNew();
        Task.WaitAll(Enumerable.Range(0, threads).Select(thread => SendRun.OnThreadOfItsOwn(() =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < BareMessages)
            {
                send(thread, i);
            }
        })));
        return BareMessages / watch.Elapsed.TotalSeconds;
    }

    /// <summary>Postfix's own client, sessions kept open (-d), the loopback's limit.</summary>
    static async Task<double> SmtpSourceAsync(int port, int sessions, int size, CancellationToken ct)
    {
        const int messages = 40_000;
        var start = new ProcessStartInfo(Source) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-d", "-s", sessions.ToString(CultureInfo.InvariantCulture), "-l", size.ToString(CultureInfo.InvariantCulture),
                     "-m", messages.ToString(CultureInfo.InvariantCulture), "-f", "bench@bench.example.org", "-t", "sink@bench.example.org",
                     $"127.0.0.1:{port}" })
        {
            start.ArgumentList.Add(arg);
        }
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        await process.WaitForExitAsync(ct);
        return process.ExitCode == 0 ? messages / watch.Elapsed.TotalSeconds : double.NaN;
    }

    internal static Process StartSink(int port)
    {
        var start = new ProcessStartInfo(Sink) { RedirectStandardOutput = false, RedirectStandardError = false };
        foreach (var arg in new[] { "-u", "nobody", "-m", "256", $"127.0.0.1:{port}", "256" })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        // smtp-sink listens as soon as it runs; wait until it accepts, so the first send does not race it.
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, port);
                return process;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }
        process.Kill();
        throw new InvalidOperationException($"smtp-sink did not start listening on 127.0.0.1:{port}.");
    }

    /// <summary>
    /// What every benchmarked send runs with: smtp-sink on 127.0.0.1:<paramref name="port"/> over
    /// <paramref name="connections"/> connections, no rate limit, its files under <paramref name="folder"/>.
    /// </summary>
    internal static Dictionary<string, string?> RelayConfig(string folder, int port, int connections) => new()
    {
        ["Delivery:PickupDirectory"] = Path.Combine(folder, "outbox"),
        ["Smtp:Host"] = "127.0.0.1",
        ["Smtp:Port"] = port.ToString(CultureInfo.InvariantCulture),
        ["Smtp:MaxConnections"] = connections.ToString(CultureInfo.InvariantCulture),
        ["Smtp:MessagesPerSecond"] = "0",
    };

    internal static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
