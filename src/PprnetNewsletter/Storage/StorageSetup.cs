using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Storage;

public static class StorageSetup
{
    /// <summary>The database (SQLite file or PostgreSQL), its migrations and health check.</summary>
    public static IHostApplicationBuilder AddStorage(this IHostApplicationBuilder builder)
    {
        SqlTime.Register();
        builder.Services.AddValidatedOptions<StorageOptions>(StorageOptions.Section);
        builder.Services.AddSingleton<Db>();
        builder.Services.AddSingleton<Migrator>();
        builder.Services.AddSingleton<PgDb>();
        builder.Services.AddSingleton<PgMigrator>();
        builder.AddStore<ISchemaMigrator, Migrator, PgMigrator>();
        builder.Services.AddSingleton<StorageCopy>();
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        return builder;
    }

    /// <summary>The engine the configuration names; read when the services are registered.</summary>
    public static StorageProvider Provider(this IHostApplicationBuilder builder) =>
        builder.Configuration.GetSection(StorageOptions.Section).GetValue<StorageProvider?>(nameof(StorageOptions.Provider))
        ?? StorageProvider.Sqlite;

    /// <summary>
    /// Registers a feature's store interface with the implementation for the configured engine: every other class
    /// depends on <typeparamref name="TService"/> alone, so SQLite and PostgreSQL are two implementations of one
    /// interface, never two code paths.
    /// </summary>
    public static IHostApplicationBuilder AddStore<TService, TSqlite, TPostgres>(this IHostApplicationBuilder builder)
        where TService : class
        where TSqlite : class, TService
        where TPostgres : class, TService
    {
        if (builder.Provider() == StorageProvider.Postgres)
        {
            builder.Services.AddSingleton<TService>(sp => sp.GetService<TPostgres>() ?? ActivatorUtilities.CreateInstance<TPostgres>(sp));
        }
        else
        {
            builder.Services.AddSingleton<TService>(sp => sp.GetService<TSqlite>() ?? ActivatorUtilities.CreateInstance<TSqlite>(sp));
        }
        return builder;
    }
}
