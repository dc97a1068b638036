using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Subscribers;

public class LinkTokensTests
{
    static string NewKey() => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    static Dictionary<string, string?> Keys(string current, params (string Id, string Key)[] keys)
    {
        var config = new Dictionary<string, string?> { ["Tokens:CurrentKeyId"] = current };
        foreach (var (id, key) in keys)
        {
            config[$"Tokens:Keys:{id}"] = key;
        }
        return config;
    }

    [Fact]
    public async Task A_token_verifies_for_its_subscriber_and_purpose()
    {
        await using var test = await TestApp.CreateAsync(Keys("k1", ("k1", NewKey())));
        var tokens = test.Get<LinkTokens>();

        var token = tokens.Create(42, LinkPurpose.Unsubscribe);

        Assert.Matches(@"^v2\.k1\.42\.[A-Za-z0-9_-]{43}$", token);
        Assert.True(tokens.TryVerify(token, LinkPurpose.Unsubscribe, out var id));
        Assert.Equal(42, id);
        Assert.False(tokens.TryVerify(token, LinkPurpose.Preferences, out _));
        Assert.NotEqual(token, tokens.Create(42, LinkPurpose.Preferences));
        Assert.NotEqual(token, tokens.Create(43, LinkPurpose.Unsubscribe));
    }

    [Fact]
    public async Task Tampered_truncated_and_malformed_tokens_are_rejected()
    {
        await using var test = await TestApp.CreateAsync(Keys("k1", ("k1", NewKey())));
        var tokens = test.Get<LinkTokens>();
        var token = tokens.Create(42, LinkPurpose.Preferences);

        for (var i = 0; i < token.Length; i++)
        {
            var flipped = token[..i] + (token[i] == 'A' ? 'B' : 'A') + token[(i + 1)..];
            Assert.False(tokens.TryVerify(flipped, LinkPurpose.Preferences, out _), $"flipped at {i}: {flipped}");
        }
        for (var length = 0; length < token.Length; length++)
        {
            Assert.False(tokens.TryVerify(token[..length], LinkPurpose.Preferences, out _), $"truncated to {length}");
        }
        var parts = token.Split('.');
        string[] malformed =
        [
            token + "A", token + ".", "." + token, $"v2.k1.042.{parts[3]}", $"v2.k1.+42.{parts[3]}", $"v1.k1.42.{parts[3]}", $"v3.k1.42.{parts[3]}",
            $"v2.k1.-42.{parts[3]}", $"v2..42.{parts[3]}", $"v2.k1.42.{parts[3]}=", token.ToUpperInvariant(), new string('x', 5000),
        ];
        Assert.All(malformed, bad => Assert.False(tokens.TryVerify(bad, LinkPurpose.Preferences, out _), bad));
        Assert.False(tokens.TryVerify(null, LinkPurpose.Preferences, out _));
    }

    [Fact]
    public async Task A_token_from_another_installation_or_an_unknown_key_id_is_rejected()
    {
        await using var ours = await TestApp.CreateAsync(Keys("k1", ("k1", NewKey())));
        await using var theirs = await TestApp.CreateAsync(Keys("k1", ("k1", NewKey())));
        await using var other = await TestApp.CreateAsync(Keys("k9", ("k9", NewKey())));

        Assert.False(ours.Get<LinkTokens>().TryVerify(theirs.Get<LinkTokens>().Create(7, LinkPurpose.Unsubscribe), LinkPurpose.Unsubscribe, out _));
        Assert.False(ours.Get<LinkTokens>().TryVerify(other.Get<LinkTokens>().Create(7, LinkPurpose.Unsubscribe), LinkPurpose.Unsubscribe, out _));
    }

    [Fact]
    public async Task After_rotation_old_tokens_still_verify_while_their_key_is_kept()
    {
        var oldKey = NewKey();
        string oldToken;
        await using (var before = await TestApp.CreateAsync(Keys("2025", ("2025", oldKey))))
        {
            oldToken = before.Get<LinkTokens>().Create(5, LinkPurpose.Unsubscribe);
        }

        await using var rotated = await TestApp.CreateAsync(Keys("2026", ("2025", oldKey), ("2026", NewKey())));
        var tokens = rotated.Get<LinkTokens>();
        Assert.True(tokens.TryVerify(oldToken, LinkPurpose.Unsubscribe, out var id));
        Assert.Equal(5, id);
        Assert.StartsWith("v2.2026.5.", tokens.Create(5, LinkPurpose.Unsubscribe));

        await using var dropped = await TestApp.CreateAsync(Keys("2026", ("2026", NewKey())));
        Assert.False(dropped.Get<LinkTokens>().TryVerify(oldToken, LinkPurpose.Unsubscribe, out _));
    }

    [Fact]
    public async Task Without_configured_keys_one_is_generated_once_next_to_the_database_and_reused()
    {
        await using var first = await TestApp.CreateAsync();
        var keyFile = Path.Combine(first.Folder, SqliteTokenKeyStore.FileName);
        Assert.False(File.Exists(keyFile));

        var token = first.Get<LinkTokens>().Create(11, LinkPurpose.Preferences);

        Assert.True(File.Exists(keyFile));
        var content = await File.ReadAllTextAsync(keyFile);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        }
        await using var second = await TestApp.CreateAsync(new Dictionary<string, string?> { ["Storage:Database"] = first.DatabasePath });
        Assert.True(second.Get<LinkTokens>().TryVerify(token, LinkPurpose.Preferences, out var id));
        Assert.Equal(11, id);
        Assert.Equal(content, await File.ReadAllTextAsync(keyFile));
        Assert.Single(Directory.GetFiles(first.Folder, "token-keys*"));
    }

    [Fact]
    public async Task Processes_starting_at_once_agree_on_one_generated_key()
    {
        await using var test = await TestApp.CreateAsync();
        var db = test.Get<PprnetNewsletter.Storage.Db>();
        var logger = test.Get<ILoggerFactory>().CreateLogger<SqliteTokenKeyStore>();
        var options = Options.Create(new TokenOptions());

        // Each TokenKeys is what a separate process would build; they race to create the same file, all let go at once.
        var rings = new TokenKeyRing[16];
        using var start = new Barrier(rings.Length);
        var threads = Enumerable.Range(0, rings.Length).Select(i => new Thread(() =>
        {
            var keys = new TokenKeys(options, new SqliteTokenKeyStore(db, logger));
            start.SignalAndWait();
            rings[i] = keys.Ring;
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        var file = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(test.Folder, SqliteTokenKeyStore.FileName)));
        var stored = Convert.FromBase64String(file.RootElement.GetProperty("keys").GetProperty(TokenKeys.GeneratedKeyId).GetString()!);
        Assert.All(rings, ring => Assert.Equal(stored, ring.Current));
        Assert.Single(Directory.GetFiles(test.Folder, "token-keys*"));
    }

    [Theory]
    [InlineData("k1", "k1", "c2hvcnQ=", "at least 32")]
    [InlineData("k2", "k1", null, "Tokens:CurrentKeyId must name one of Tokens:Keys")]
    [InlineData("k1", "bad.id", null, "key id")]
    [InlineData("k1", null, null, "Tokens:Keys is empty")]
    public async Task Bad_token_configuration_stops_start_up_naming_the_key(string current, string? keyId, string? key, string message)
    {
        var config = keyId is null ? Keys(current) : Keys(current, (keyId, key ?? NewKey()));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestApp.CreateAsync(config));

        Assert.Contains(message, string.Join("\n", error.Failures));
    }
}
