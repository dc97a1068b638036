namespace PprnetNewsletter.Hosting;

/// <summary>
/// Finds the folder that holds <c>config/</c> and <c>templates/</c>: the repository when run with
/// <c>dotnet run</c> from anywhere inside it, else the folder of the built binary (the build copies both).
/// Relative paths in configuration (database, outbox) are resolved against this folder, so the service
/// behaves the same whatever the current directory is.
/// </summary>
public static class AppHome
{
    public static string Locate()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (IsHome(dir.FullName))
                {
                    return dir.FullName;
                }
            }
        }
        return AppContext.BaseDirectory;
    }

    static bool IsHome(string dir) =>
        File.Exists(Path.Combine(dir, "config", "appsettings.json")) && Directory.Exists(Path.Combine(dir, "templates"));

    /// <summary>An absolute path for a configured one: relative paths are taken from the home folder.</summary>
    public static string Resolve(string contentRoot, string path) =>
        Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(contentRoot, path));
}
