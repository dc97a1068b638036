using System.ComponentModel.DataAnnotations;

namespace PprnetNewsletter.Storage;

public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>The SQLite file; a relative path is taken from the application folder.</summary>
    [Required(ErrorMessage = "Storage:Database is required: the path of the SQLite file, e.g. data/pprnet.db")]
    public string Database { get; set; } = "data/pprnet.db";

    /// <summary>How long a statement waits for another process's write lock before giving up.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00",
        ErrorMessage = "Storage:BusyTimeout must be between 00:00:01 and 00:10:00")]
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
