using System.CommandLine;
using Microsoft.Extensions.Options;
using Npgsql;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Storage;

public static class StorageVerbs
{
    /// <summary>The verb <c>storage copy --to CONNECTION</c>: the SQLite database into an empty PostgreSQL database.</summary>
    public static Command StorageVerb(this IHost app)
    {
        var to = new Option<string>("--to")
        {
            Description = "The PostgreSQL connection string of an empty database, e.g. \"Host=db.example.org;Database=pprnet;Username=pprnet;Password=...\"",
            Required = true,
        };
        var copy = new Command("copy", "Copy this SQLite database (Storage:Database) into an empty PostgreSQL database: every table, ids unchanged, counts verified.")
        {
            to,
        };
        copy.SetAction(async (parse, ct) =>
        {
            if (app.Services.GetRequiredService<IOptions<StorageOptions>>().Value.Provider != StorageProvider.Sqlite)
            {
                throw new UsageException("storage copy reads a SQLite database: run it with Storage:Provider=Sqlite (the default) and " +
                    "Storage:Database naming the file to copy.");
            }
            var connectionString = parse.GetValue(to)!;
            try
            {
                _ = new NpgsqlConnectionStringBuilder(connectionString);
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"--to is not a PostgreSQL connection string ({e.Message}): write Key=Value pairs separated by " +
                    "semicolons, e.g. \"Host=localhost;Database=pprnet;Username=pprnet\"");
            }
            try
            {
                var counts = await app.Services.GetRequiredService<StorageCopy>().CopyAsync(connectionString, Console.WriteLine, ct);
                Console.WriteLine($"Copied {counts.Count} tables, {counts.Sum(c => c.Target):N0} rows; every count matches the SQLite database, " +
                    "and so does the consent ledger.");
                Console.WriteLine("Point the service at it with Storage:Provider=Postgres and Storage:ConnectionString " +
                    "(e.g. PPRNET_Storage__Provider=Postgres PPRNET_Storage__ConnectionString=\"...\").");
                return ExitCodes.Success;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"storage copy failed: {e.Message}");
                return ExitCodes.Failure;
            }
        });
        return new Command("storage", "Move the data between database engines.") { copy };
    }
}
