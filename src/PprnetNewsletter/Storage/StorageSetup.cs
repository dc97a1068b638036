using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Storage;

public static class StorageSetup
{
    /// <summary>SQLite file, connection factory, migrations.</summary>
    public static IHostApplicationBuilder AddStorage(this IHostApplicationBuilder builder)
    {
        SqlTime.Register();
        builder.Services.AddValidatedOptions<StorageOptions>(StorageOptions.Section);
        builder.Services.AddSingleton<Db>();
        builder.Services.AddSingleton<Migrator>();
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        return builder;
    }
}
