using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Tests.Support;

/// <summary>
/// The store contract tests run once per database engine:
/// <c>[Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]</c> with a <see cref="StorageProvider"/>
/// parameter, and <see cref="CreateAppAsync"/> for an app on a fresh database of that engine.
/// </summary>
public static class Engines
{
    public static TheoryData<StorageProvider> Both => new() { StorageProvider.Sqlite, StorageProvider.Postgres };

    /// <summary>An app (as <see cref="TestApp.CreateAsync"/>) on a new, empty database of <paramref name="engine"/>.</summary>
    public static async Task<TestApp> CreateAppAsync(StorageProvider engine, IDictionary<string, string?>? config = null, bool serve = false) =>
        engine == StorageProvider.Postgres
            ? await TestApp.CreateAsync(await PostgresServer.ConfigAsync(config), serve)
            : await TestApp.CreateAsync(config, serve);

    /// <summary>As <see cref="CreateAppAsync"/>, with the web server started.</summary>
    public static async Task<TestApp> StartWebAsync(StorageProvider engine, IDictionary<string, string?>? config = null) =>
        engine == StorageProvider.Postgres
            ? await TestApp.StartWebAsync(await PostgresServer.ConfigAsync(config))
            : await TestApp.StartWebAsync(config);
}
