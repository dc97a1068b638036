using Microsoft.Extensions.Options;
using Npgsql;

namespace PprnetNewsletter.Storage.Postgres;

/// <summary>
/// The PostgreSQL database (Storage:Provider = Postgres): one pooled <see cref="NpgsqlDataSource"/> per process.
/// Stores open a connection per unit of work and dispose of it, as they do with SQLite.
/// </summary>
public sealed class PgDb : IAsyncDisposable, IDisposable
{
    readonly NpgsqlDataSource _source;

    public PgDb(IOptions<StorageOptions> options)
    {
        var builder = new NpgsqlConnectionStringBuilder(options.Value.ConnectionString)
        {
            // Shown in pg_stat_activity, so an operator can tell the service's sessions from others.
            ApplicationName = "pprnet",
        };
        ConnectionString = builder.ConnectionString;
        _source = NpgsqlDataSource.Create(builder);
    }

    /// <summary>The connection string as used (for messages, never logged with its password).</summary>
    internal string ConnectionString { get; }

    /// <summary>Where the database is, for messages: host, port and database name, never the password.</summary>
    public string Describe()
    {
        var b = new NpgsqlConnectionStringBuilder(ConnectionString);
        return $"PostgreSQL database \"{b.Database}\" on {b.Host}:{b.Port}";
    }

    public async Task<NpgsqlConnection> OpenAsync(CancellationToken ct = default) =>
        await _source.OpenConnectionAsync(ct);

    public ValueTask DisposeAsync() => _source.DisposeAsync();

    public void Dispose() => _source.Dispose();
}
