using System.CommandLine;
using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Storage;

/// <summary>
/// <c>pprnet backup FILE [--force]</c>: a consistent copy of the live SQLite database through SQLite's online backup
/// API, safe while the service sends (in WAL mode the copy reads one snapshot and writers go on). With PostgreSQL the
/// database has its own tool, pg_dump, and the verb says how to run it.
/// </summary>
public static class DatabaseBackup
{
    public static Command BackupVerb(this IHost app)
    {
        var file = new Argument<string>("FILE") { Description = "Where to write the copy, e.g. backups/pprnet-2026-12-07.db." };
        var force = new Option<bool>("--force") { Description = "Replace FILE if it exists." };
        var backup = new Command("backup", "Copy the SQLite database, consistently, while the service runs.") { file, force };
        backup.SetAction(parsed => Run(app.Services, parsed.GetValue(file)!, parsed.GetValue(force)));
        return backup;
    }

    static int Run(IServiceProvider services, string file, bool force)
    {
        var storage = services.GetRequiredService<IOptions<StorageOptions>>().Value;
        if (storage.Provider == StorageProvider.Postgres)
        {
            throw new UsageException(
                "pprnet backup copies a SQLite database; this service stores its data in PostgreSQL, whose own tool makes " +
                $"a consistent copy of a running database:{Environment.NewLine}  {PgDumpCommand(storage.ConnectionString, file)}" +
                $"{Environment.NewLine}(pg_dump asks for the password, or reads it from PGPASSWORD or ~/.pgpass; restore with pg_restore.)");
        }

        var db = services.GetRequiredService<Db>();
        var target = Path.GetFullPath(file);
        if (string.Equals(target, db.Path, StringComparison.Ordinal))
        {
            throw new UsageException($"{target} is the live database itself; give the copy another name.");
        }
        if (Directory.Exists(target))
        {
            throw new UsageException($"{target} is a folder; give the name of the file to write, e.g. {Path.Combine(target, "pprnet-backup.db")}.");
        }
        if (File.Exists(target) && !force)
        {
            throw new UsageException($"{target} exists already and is kept as it is; choose another name, or add --force to replace it.");
        }
        var folder = Path.GetDirectoryName(target)!;
        if (!Directory.Exists(folder))
        {
            throw new UsageException($"The folder {folder} does not exist; create it first, or choose another place for the copy.");
        }

        // The copy is made under a temporary name beside FILE and moved into place once complete, so FILE is never a
        // half-written database, and an existing FILE is only replaced (--force) by a whole copy.
        var partial = Path.Combine(folder, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.partial");
        try
        {
            Copy(db, partial, target, force);
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"The backup to {target} failed: {e.Message}");
            return ExitCodes.Failure;
        }

        long subscribers, editions;
        using (var written = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = target, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString()))
        {
            written.Open();
            subscribers = written.ExecuteScalar<long>("SELECT count(*) FROM subscribers");
            editions = written.ExecuteScalar<long>("SELECT count(*) FROM editions");
        }
        var size = new FileInfo(target).Length;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Backed up {db.Path} to {target}: {size:N0} bytes, {Counted.Of(subscribers, "subscriber")}, {Counted.Of(editions, "edition")}."));
        return ExitCodes.Success;
    }

    static void Copy(Db db, string partial, string target, bool force)
    {
        try
        {
            using (var source = db.Open())
            using (var copy = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = partial, Pooling = false }.ToString()))
            {
                copy.Open();
                source.BackupDatabase(copy);
                // The live database is in WAL mode; the copy becomes one self-contained file, with nothing beside it.
                copy.Execute("PRAGMA journal_mode = DELETE");
            }
            File.Move(partial, target, overwrite: force);
        }
        finally
        {
            File.Delete(partial);
        }
    }

    /// <summary>The pg_dump command line for the configured database: host, port, user and database, never the password.</summary>
    public static string PgDumpCommand(string connectionString, string file)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        var parts = new List<string> { "pg_dump", "--format=custom" };
        if (!string.IsNullOrEmpty(b.Host))
        {
            parts.Add($"--host={Quote(b.Host)}");
        }
        parts.Add(string.Create(CultureInfo.InvariantCulture, $"--port={b.Port}"));
        if (!string.IsNullOrEmpty(b.Username))
        {
            parts.Add($"--username={Quote(b.Username)}");
        }
        parts.Add($"--file={Quote(file)}");
        parts.Add(Quote(b.Database ?? ""));
        return string.Join(' ', parts);
    }

    /// <summary>A word for a POSIX shell: as it is when plainly safe, else in single quotes.</summary>
    static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@,".Contains(c))
            ? word
            : "'" + word.Replace("'", "'\\''") + "'";
}
