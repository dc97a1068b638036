using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace PprnetNewsletter.Tests.Support;

/// <summary>
/// A throwaway PostgreSQL cluster for the tests: Debian's <c>initdb</c> and <c>pg_ctl</c> (package
/// <c>postgresql</c>) make a cluster in a temporary folder and start it on a free loopback port; one cluster serves
/// the whole test run and is stopped, and its folder deleted, when the test process exits. Every test gets a database
/// of its own (<see cref="CreateDatabaseAsync"/>). As root (CI), PostgreSQL refuses to run, so the cluster belongs
/// to the <c>postgres</c> user that the package creates. Durability is switched off: a test cluster dies with its tests.
/// </summary>
internal sealed class PostgresServer
{
    static readonly Lazy<Task<PostgresServer>> Shared = new(() => StartAsync(durable: false));

    readonly bool _asRoot;

    PostgresServer(string binFolder, string folder, int port, bool asRoot)
    {
        BinFolder = binFolder;
        Folder = folder;
        Port = port;
        _asRoot = asRoot;
    }

    public string BinFolder { get; }

    public string Folder { get; }

    public int Port { get; }

    /// <summary>The cluster of this test run, started on first use.</summary>
    public static Task<PostgresServer> GetAsync() => Shared.Value;

    /// <summary>A connection string for the cluster's superuser and <paramref name="database"/>.</summary>
    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "postgres",
        Database = database,
        // Each test's app has a pool of its own; keep them small, the cluster is shared by every test at once.
        MaxPoolSize = 20,
    }.ConnectionString;

    /// <summary>A new, empty database; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }
        return ConnectionString(name);
    }

    /// <summary>Application configuration for a new, empty PostgreSQL database (Storage:Provider = Postgres).</summary>
    public static async Task<Dictionary<string, string?>> ConfigAsync(IDictionary<string, string?>? more = null)
    {
        var server = await GetAsync();
        var config = new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "Postgres",
            ["Storage:ConnectionString"] = await server.CreateDatabaseAsync(),
        };
        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }
        return config;
    }

    /// <summary>
    /// Starts a cluster of its own (the benchmark's): <paramref name="durable"/> keeps PostgreSQL's default fsync and
    /// synchronous commits, as a production server has them; the tests' cluster runs without.
    /// </summary>
    public static async Task<PostgresServer> StartAsync(bool durable)
    {
        var bin = FindBinFolder();
        RemoveStoppedClusters();
        var folder = Path.Combine(Path.GetTempPath(), "pprnet-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            await RunAsync("chown", ["postgres:postgres", folder], asPostgres: false);
        }
        var data = Path.Combine(folder, "data");
        await RunAsync(Path.Combine(bin, "initdb"),
            ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"], asRoot);
        var port = FreePort();
        var settings = string.Join(' ',
            $"-p {port}", $"-k {folder}", "-c listen_addresses=127.0.0.1", "-c max_connections=400",
            durable ? "-c shared_buffers=256MB -c max_wal_size=4GB" : "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=64MB");
        await RunAsync(Path.Combine(bin, "pg_ctl"),
            ["-D", data, "-l", Path.Combine(folder, "server.log"), "-o", settings, "-w", "-t", "60", "start"], asRoot);
        var server = new PostgresServer(bin, folder, port, asRoot);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
        return server;
    }

    /// <summary>Stops the cluster and deletes its folder (also done when the process exits).</summary>
    public void Stop()
    {
        if (!Directory.Exists(Folder))
        {
            return;
        }
        try
        {
            RunAsync(Path.Combine(BinFolder, "pg_ctl"), ["-D", Path.Combine(Folder, "data"), "-m", "immediate", "-w", "stop"], _asRoot)
                .GetAwaiter().GetResult();
            Directory.Delete(Folder, recursive: true);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"The test PostgreSQL cluster in {Folder} did not stop cleanly: {e.Message}");
        }
    }

    /// <summary>
    /// The test host may be ended before its exit handler has deleted the folder of a stopped cluster: remove those
    /// left by earlier runs (a running cluster keeps its postmaster.pid, and is left alone).
    /// </summary>
    static void RemoveStoppedClusters()
    {
        foreach (var old in Directory.GetDirectories(Path.GetTempPath(), "pprnet-pg-*"))
        {
            if (!File.Exists(Path.Combine(old, "data", "postmaster.pid")) && Directory.GetCreationTimeUtc(old) < DateTime.UtcNow.AddMinutes(-1))
            {
                try
                {
                    Directory.Delete(old, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Another user's or a concurrent run's folder: not ours to insist on.
                }
            }
        }
    }

    static string FindBinFolder()
    {
        const string Root = "/usr/lib/postgresql";
        var bin = Directory.Exists(Root)
            ? Directory.GetDirectories(Root)
                .Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException(
            "The PostgreSQL tests need initdb and pg_ctl from Debian's postgresql package (looked in " +
            $"{Root}/<version>/bin): install it with `apt-get install postgresql` (.ci/run does this), then run the tests again.");
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static async Task RunAsync(string file, IReadOnlyList<string> args, bool asPostgres)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // Not the test's folder: the postgres user may not be allowed to enter it.
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asPostgres)
        {
            foreach (var a in new[] { "-u", "postgres", "--", file })
            {
                start.ArgumentList.Add(a);
            }
        }
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Path.GetFileName(file)} {string.Join(' ', args)} exited with {process.ExitCode.ToString(CultureInfo.InvariantCulture)}: {await error}{await output}");
        }
    }
}
