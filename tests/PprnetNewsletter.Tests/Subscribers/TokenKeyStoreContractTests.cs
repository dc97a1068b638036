using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Storage.Postgres;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Subscribers;

/// <summary>
/// The contract of <see cref="ITokenKeyStore"/> on both engines: every process of an installation signs and verifies
/// links with the one generated key, however many start at once; configured keys win.
/// </summary>
public sealed class TokenKeyStoreContractTests
{
    /// <summary>Configuration for apps that share one new database of <paramref name="engine"/>, as instances of one installation do.</summary>
    static async Task<Dictionary<string, string?>> SharedDatabaseAsync(StorageProvider engine, IDictionary<string, string?>? more = null)
    {
        if (engine == StorageProvider.Postgres)
        {
            return await PostgresServer.ConfigAsync(more);
        }
        var folder = Path.Combine(Path.GetTempPath(), "pprnet-tests", Guid.NewGuid().ToString("N"));
        var config = new Dictionary<string, string?>(more ?? new Dictionary<string, string?>())
        {
            ["Storage:Database"] = Path.Combine(folder, "pprnet.db"),
        };
        return config;
    }

    static Dictionary<string, string?> ConfiguredKey(string key) => new()
    {
        ["Tokens:CurrentKeyId"] = "k1",
        ["Tokens:Keys:k1"] = key,
    };

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task A_link_signed_by_one_instance_opens_on_another_instance_on_the_same_database(StorageProvider engine)
    {
        var config = await SharedDatabaseAsync(engine);
        await using var signer = await TestApp.CreateAsync(config);
        var subscriber = await signer.Get<ISubscriberStore>().AddAsync(new NewSubscriber("both@example.org", "", TopicSelection.All), ConsentContext.Admin);
        var link = "/u/" + signer.Get<LinkTokens>().Create(subscriber.Id, LinkPurpose.Unsubscribe);

        await using var server = await TestApp.StartWebAsync(config);
        using var client = server.CreateClient();
        var response = await client.PostAsync(link, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await signer.Get<ISubscriberStore>().GetAsync(subscriber.Id))!.Status);
        Assert.Equal(signer.Get<TokenKeys>().Ring.Current, server.Get<TokenKeys>().Ring.Current);
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Instances_generating_the_key_at_the_same_moment_all_get_the_same_key(StorageProvider engine)
    {
        await using var app = await Engines.CreateAppAsync(engine);
        var storeType = engine == StorageProvider.Postgres ? typeof(PgTokenKeyStore) : typeof(SqliteTokenKeyStore);

        // Each store is what a separate instance would build; they race to create the key, all let go at once.
        var rings = new TokenKeyRing[16];
        using var start = new Barrier(rings.Length);
        var threads = Enumerable.Range(0, rings.Length).Select(i => new Thread(() =>
        {
            var store = (ITokenKeyStore)ActivatorUtilities.CreateInstance(app.App.Services, storeType);
            start.SignalAndWait();
            rings[i] = store.LoadOrCreate();
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        var kept = app.Get<TokenKeys>().Ring;
        Assert.Equal(TokenKeys.GeneratedKeyId, kept.CurrentKeyId);
        Assert.Equal(TokenOptions.MinKeyBytes, kept.Current.Length);
        Assert.All(rings, ring => Assert.Equal(kept.Current, ring.Current));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Configured_keys_win_over_the_generated_one(StorageProvider engine)
    {
        var key = Convert.ToBase64String(TokenKeys.NewKey());
        var config = await SharedDatabaseAsync(engine);
        await using var generated = await TestApp.CreateAsync(config);
        var generatedLink = generated.Get<LinkTokens>().Create(7, LinkPurpose.Preferences);

        await using var configured = await TestApp.CreateAsync(new Dictionary<string, string?>(config.Concat(ConfiguredKey(key))));

        Assert.Equal(Convert.FromBase64String(key), configured.Get<TokenKeys>().Ring.Current);
        Assert.False(configured.Get<LinkTokens>().TryVerify(generatedLink, LinkPurpose.Preferences, out _));
        Assert.False(generated.Get<LinkTokens>().TryVerify(configured.Get<LinkTokens>().Create(7, LinkPurpose.Preferences), LinkPurpose.Preferences, out _));
    }

    [Fact]
    public async Task A_generated_key_moved_from_sqlite_to_postgres_opens_the_links_signed_before_the_move()
    {
        await using var sqlite = await TestApp.CreateAsync();
        var link = sqlite.Get<LinkTokens>().Create(5, LinkPurpose.Unsubscribe);
        var ring = ActivatorUtilities.CreateInstance<SqliteTokenKeyStore>(sqlite.App.Services).LoadExisting()!;
        var config = await PostgresServer.ConfigAsync();
        await using (var target = await TestApp.CreateAsync(config))
        {
            await using var connection = await target.Get<PgDb>().OpenAsync();
            await using var tx = await connection.BeginTransactionAsync();
            await PgTokenKeyStore.AdoptAsync(connection, tx, ring, DateTimeOffset.UtcNow);
            await tx.CommitAsync();
        }

        await using var moved = await TestApp.CreateAsync(config);

        Assert.True(moved.Get<LinkTokens>().TryVerify(link, LinkPurpose.Unsubscribe, out var id));
        Assert.Equal(5, id);
    }

    [Fact]
    public async Task A_moved_key_never_replaces_a_different_key_the_database_already_signs_with()
    {
        await using var sqlite = await TestApp.CreateAsync();
        sqlite.Get<LinkTokens>().Create(5, LinkPurpose.Unsubscribe);
        var ring = ActivatorUtilities.CreateInstance<SqliteTokenKeyStore>(sqlite.App.Services).LoadExisting()!;
        await using var target = await Engines.CreateAppAsync(StorageProvider.Postgres);
        var signedHere = target.Get<LinkTokens>().Create(6, LinkPurpose.Unsubscribe);

        await using var connection = await target.Get<PgDb>().OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        var refused = await Assert.ThrowsAsync<UsageException>(() => PgTokenKeyStore.AdoptAsync(connection, tx, ring, DateTimeOffset.UtcNow));

        Assert.Contains("already has a different link-token key", refused.Message);
        Assert.Null(ActivatorUtilities.CreateInstance<SqliteTokenKeyStore>(target.App.Services).LoadExisting());
        Assert.True(target.Get<LinkTokens>().TryVerify(signedHere, LinkPurpose.Unsubscribe, out _));
    }
}
