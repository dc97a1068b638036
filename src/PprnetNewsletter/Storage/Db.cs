using System.Runtime.CompilerServices;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Storage;

/// <summary>Opens connections to the service's SQLite database, each set up the same way.</summary>
public sealed class Db
{
    readonly string _connectionString;

    public Db(IOptions<StorageOptions> options, IHostEnvironment environment)
    {
        Path = AppHome.Resolve(environment.ContentRootPath, options.Value.Database);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Pooling = true,
            ForeignKeys = true,
            // Microsoft.Data.Sqlite retries a busy database for this long before it throws.
            DefaultTimeout = (int)options.Value.BusyTimeout.TotalSeconds,
        }.ToString();
        BusyTimeoutMilliseconds = (int)options.Value.BusyTimeout.TotalMilliseconds;
    }

    /// <summary>The absolute path of the database file.</summary>
    public string Path { get; }

    int BusyTimeoutMilliseconds { get; }

    const int CacheKibibytes = 1024;

    /// <remarks>SQLite has no asynchronous I/O: this completes synchronously, as Microsoft.Data.Sqlite's own OpenAsync does.</remarks>
    public Task<SqliteConnection> OpenAsync(CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        return Task.FromResult(Open());
    }

    /// <summary>For code on a thread of its own (the sending engine's outcome writer).</summary>
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        try
        {
            // The pool hands back the same SQLite handle again and again; its settings stay with it, so they are
            // applied once per physical connection rather than on every open (the ledger opens for every commit).
            if (!_configured.TryGetValue(connection.Handle!, out _))
            {
                // synchronous=NORMAL is durable across a process crash in WAL mode (only power loss can drop the last
                // commits), and makes each commit several times cheaper than FULL. The page cache is per connection and
                // each pooled one kept SQLite's default 2 MB once a long send or a count over a million rows had filled
                // it; the operating system caches the file anyway, so 1 MB each keeps a send's process small for the
                // same speed (docs/benchmarks.md).
                connection.Execute($"PRAGMA busy_timeout = {BusyTimeoutMilliseconds}; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -{CacheKibibytes};");
                _configured.AddOrUpdate(connection.Handle!, Configured);
            }
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    static readonly object Configured = new();

    readonly ConditionalWeakTable<SQLitePCL.sqlite3, object> _configured = new();
}
