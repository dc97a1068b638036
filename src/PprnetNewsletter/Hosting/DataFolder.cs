using Microsoft.Extensions.Options;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Hosting;

/// <summary>Where the service's data is, for the files that belong with it and for messages to the operator.</summary>
public static class DataFolder
{
    /// <summary>
    /// The folder for files kept with the data (a DKIM key): beside the SQLite file; with PostgreSQL, which has no
    /// file here, the <c>data</c> folder of the application's home (beside <c>config/</c>), created if need be.
    /// </summary>
    public static string Of(IServiceProvider services)
    {
        if (!UsesPostgres(services))
        {
            return Path.GetDirectoryName(services.GetRequiredService<Db>().Path)!;
        }
        var folder = AppHome.Resolve(services.GetRequiredService<IHostEnvironment>().ContentRootPath, "data");
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>The database in words: the SQLite file's path, or the PostgreSQL host, port and database (never the password).</summary>
    public static string DescribeDatabase(IServiceProvider services) =>
        UsesPostgres(services) ? services.GetRequiredService<PgDb>().Describe() : services.GetRequiredService<Db>().Path;

    static bool UsesPostgres(IServiceProvider services) =>
        services.GetRequiredService<IOptions<StorageOptions>>().Value.Provider == StorageProvider.Postgres;
}
