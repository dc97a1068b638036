using System.Runtime.InteropServices;
using System.Text.Json;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Subscribers;

/// <summary>
/// The generated link-token key of a SQLite installation: <c>token-keys.json</c> in the database's folder, written
/// once. Every process on the machine uses the same database file, so they all find the same key file.
/// </summary>
public sealed class SqliteTokenKeyStore(Db db, ILogger<SqliteTokenKeyStore> logger) : ITokenKeyStore
{
    public const string FileName = "token-keys.json";

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The generated key file.</summary>
    public string KeyFilePath { get; } = Path.Combine(Path.GetDirectoryName(db.Path)!, FileName);

    public TokenKeyRing LoadOrCreate() => LoadOrCreate(KeyFilePath, logger);

    /// <summary>The generated key, or null when none was ever generated (for moving it to PostgreSQL with the data).</summary>
    public TokenKeyRing? LoadExisting() => File.Exists(KeyFilePath) ? Read(KeyFilePath) : null;

    sealed record KeyFile(string CurrentKeyId, Dictionary<string, string> Keys);

    /// <summary>
    /// Reads the key file, creating it first if there is none. The new file is written completely under a
    /// temporary name, then put in place only if no file is there yet, in one step, so a reader never sees half a
    /// file and two processes starting at once agree: the loser of the race reads the winner's key.
    /// </summary>
    static TokenKeyRing LoadOrCreate(string path, ILogger logger)
    {
        if (!File.Exists(path))
        {
            var key = TokenKeys.NewKey();
            var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
            var content = JsonSerializer.Serialize(new KeyFile(TokenKeys.GeneratedKeyId, new() { [TokenKeys.GeneratedKeyId] = Convert.ToBase64String(key) }), Json);
            WritePrivately(temporary, content);
            try
            {
                if (PlaceIfAbsent(temporary, path))
                {
                    logger.LogInformation("Generated the link-token key in {Path}: keep it secret, and back it up with the database", path);
                }
            }
            finally
            {
                File.Delete(temporary);
            }
        }
        return Read(path);
    }

    /// <summary>
    /// Gives <paramref name="file"/> the name <paramref name="path"/> unless that name exists, atomically; false if it
    /// did (another process created it first). On Unix this is link(2): File.Move without overwriting looks for the
    /// name first and then renames, and a second process's rename in between replaces the first one's file (seen: 4
    /// of 16 racing processes kept a key the file no longer held). The caller deletes <paramref name="file"/>.
    /// </summary>
    static bool PlaceIfAbsent(string file, string path)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                // MoveFileEx without MOVEFILE_REPLACE_EXISTING: fails, atomically, when the name exists.
                File.Move(file, path, overwrite: false);
                return true;
            }
            catch (IOException) when (File.Exists(path))
            {
                return false;
            }
        }
        if (Link(file, path) == 0)
        {
            return true;
        }
        var error = Marshal.GetLastPInvokeError();
        return error == AlreadyExists
            ? false
            : throw new IOException($"Could not create the link-token key file {path}: {Marshal.GetPInvokeErrorMessage(error)}. " +
                "Put Storage:Database in a folder on a file system with hard links, or configure Tokens:Keys.");
    }

    /// <summary>EEXIST, the same number on Linux and macOS.</summary>
    const int AlreadyExists = 17;

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    static void WritePrivately(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
    }

    static TokenKeyRing Read(string path)
    {
        KeyFile? file;
        try
        {
            file = JsonSerializer.Deserialize<KeyFile>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"The link-token key file {path} is not valid JSON ({e.Message}). Restore it from a backup: deleting it makes every unsubscribe link already sent invalid.", e);
        }
        var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (keyId, key) in file?.Keys ?? [])
        {
            keys[keyId] = TokenOptions.Decode(key) is { Length: >= TokenOptions.MinKeyBytes } bytes
                ? bytes
                : throw new InvalidOperationException($"The link-token key file {path} has an unusable key '{keyId}': restore the file from a backup.");
        }
        if (file is null || !keys.ContainsKey(file.CurrentKeyId ?? ""))
        {
            throw new InvalidOperationException($"The link-token key file {path} names no current key that it holds: restore the file from a backup.");
        }
        return new TokenKeyRing(file.CurrentKeyId!, keys, path);
    }
}
