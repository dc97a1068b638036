using System.ComponentModel.DataAnnotations;

namespace PprnetNewsletter.Storage;

/// <summary>Which database engine holds the service's data.</summary>
public enum StorageProvider
{
    /// <summary>One SQLite file on this machine: the default, nothing to install.</summary>
    Sqlite,

    /// <summary>A PostgreSQL database that several service instances and command-line runs share.</summary>
    Postgres,
}

public sealed class StorageOptions : IValidatableObject
{
    public const string Section = "Storage";

    /// <summary>Sqlite (default) or Postgres.</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>The SQLite file; a relative path is taken from the application folder.</summary>
    [Required(ErrorMessage = "Storage:Database is required: the path of the SQLite file, e.g. data/pprnet.db")]
    public string Database { get; set; } = "data/pprnet.db";

    /// <summary>
    /// The PostgreSQL connection string (Npgsql's keywords), used when <see cref="Provider"/> is Postgres,
    /// e.g. <c>Host=db.example.org;Database=pprnet;Username=pprnet;Password=...</c>.
    /// </summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>How long a statement waits for another process's write lock before giving up.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00",
        ErrorMessage = "Storage:BusyTimeout must be between 00:00:01 and 00:10:00")]
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Provider != StorageProvider.Postgres)
        {
            yield break;
        }
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new ValidationResult(
                "Storage:ConnectionString is required when Storage:Provider is Postgres, e.g. " +
                "Host=localhost;Database=pprnet;Username=pprnet;Password=... (or the environment variable PPRNET_Storage__ConnectionString)",
                [nameof(ConnectionString)]);
            yield break;
        }
        if (ConnectionStringProblem(ConnectionString) is { } problem)
        {
            yield return new ValidationResult(
                $"Storage:ConnectionString is not a valid PostgreSQL connection string ({problem}); " +
                "write it as Key=Value pairs separated by semicolons, e.g. Host=localhost;Database=pprnet;Username=pprnet",
                [nameof(ConnectionString)]);
        }
    }

    // A method of its own: the iterator above runs for SQLite too, and compiling it would load Npgsql.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    static string? ConnectionStringProblem(string connectionString)
    {
        try
        {
            _ = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }
}
