using Microsoft.Extensions.Options;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Hosting;

public static class Startup
{
    /// <summary>
    /// What every entry point (the service, each verb, each test) does before anything else: validate every
    /// option, then bring the database schema up to date.
    /// </summary>
    public static async Task InitializeAsync(this IHost app, CancellationToken ct = default)
    {
        app.Services.GetService<IStartupValidator>()?.Validate();
        await app.Services.GetRequiredService<ISchemaMigrator>().MigrateAsync(ct);
    }
}
