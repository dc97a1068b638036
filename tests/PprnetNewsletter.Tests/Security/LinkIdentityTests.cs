using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using PprnetNewsletter.Admin;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Security;

/// <summary>A link opens the person it was sent to, or nothing: never someone who got their id later.</summary>
public class LinkIdentityTests
{
    static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);

    static Dictionary<string, string?> Keyed(string? database = null)
    {
        var config = new Dictionary<string, string?>
        {
            ["Tokens:CurrentKeyId"] = "k1",
            ["Tokens:Keys:k1"] = Convert.ToBase64String(Key),
        };
        if (database is not null)
        {
            config["Storage:Database"] = database;
        }
        return config;
    }

    /// <summary>A link as the service signed it before this change (format v1), computed here from the key alone.</summary>
    static string LegacyToken(long id, string purpose)
    {
        var mac = HMACSHA256.HashData(Key, Encoding.UTF8.GetBytes($"v1.k1.{id}.{purpose}"));
        return $"v1.k1.{id}.{Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_')}";
    }

    static StringContent OneClick() => new("List-Unsubscribe=One-Click", Encoding.ASCII, "application/x-www-form-urlencoded");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_links_of_an_erased_or_deleted_subscriber_never_open_the_next_one(bool erase)
    {
        var (test, client) = await AdminClient.StartAsync(Keyed());
        await using var _ = test;
        using var __ = client;
        var links = test.Get<LinkTokens>();
        var first = (await (await client.PostAsJsonAsync("admin/api/subscribers", new SubscriberInput("ann@example.org", "Ann", "all", null)))
            .Content.ReadFromJsonAsync<SubscriberView>())!;
        var preferences = links.Create(first.Id, LinkPurpose.Preferences);
        var unsubscribe = links.Create(first.Id, LinkPurpose.Unsubscribe);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"preferences/{preferences}")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"admin/api/subscribers/{first.Id}?erase={erase}")).StatusCode);
        var second = (await (await client.PostAsJsonAsync("admin/api/subscribers", new SubscriberInput("bob@example.org", "Bob", "all", null)))
            .Content.ReadFromJsonAsync<SubscriberView>())!;

        Assert.NotEqual(first.Id, second.Id);
        foreach (var path in new[] { $"preferences/{preferences}", $"preferences/{preferences}/data", $"preferences/{preferences}/erase", $"u/{unsubscribe}" })
        {
            var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.DoesNotContain("bob@example.org", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"u/{unsubscribe}", OneClick())).StatusCode);
        Assert.Equal(SubscriberStatus.Confirmed, (await test.Get<ISubscriberStore>().GetAsync(second.Id))!.Status);
    }

    [Fact]
    public async Task Ids_are_never_handed_out_twice_even_when_a_raw_insert_tries()
    {
        await using var test = await TestApp.CreateAsync();
        var store = test.Get<ISubscriberStore>();
        var ann = await store.AddAsync(new NewSubscriber("ann@example.org", "", TopicSelection.All), ConsentContext.Admin);
        await store.EraseAsync(ann.Id, ConsentContext.Admin);

        var rows = await store.ImportAsync([new("bob@example.org", "", TopicSelection.All), new("cy@example.org", "", TopicSelection.All)], ConsentContext.Csv);
        var ids = new[] { (await store.FindByEmailAsync("bob@example.org"))!.Id, (await store.FindByEmailAsync("cy@example.org"))!.Id };

        Assert.Equal(2, rows.Added);
        Assert.All(ids, id => Assert.True(id > ann.Id));
        await using var connection = await test.Get<Db>().OpenAsync();
        await using var insert = connection.CreateCommand();
        insert.CommandText = $"INSERT INTO subscribers (id, email, name, status, created_at, updated_at) VALUES ({ann.Id}, 'eve@example.org', '', 'confirmed', 'x', 'x')";
        Assert.Throws<SqliteException>(() => insert.ExecuteNonQuery());
    }

    /// <summary>
    /// A database with the schema before ids were unique, and a history written as the service wrote it then:
    /// "+x" adds x@example.org (SQLite's max(id) + 1, with its consent event), "-x" deletes them (an 'erased' event,
    /// their events orphaned).
    /// </summary>
    static async Task<string> LegacyDatabaseAsync(params string[] steps)
    {
        var folder = Path.Combine(Path.GetTempPath(), "pprnet-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "legacy.db");
        await using var connection = new SqliteConnection($"Data Source={path};Foreign Keys=True;Pooling=False");
        await connection.OpenAsync();
        void Run(string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }
        Run("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
        foreach (var script in Migrator.Scripts.Where(s => s.Version < 8))
        {
            Run(script.Sql);
            Run($"INSERT INTO schema_version VALUES ({script.Version}, '{script.Name}', 'then')");
        }
        var clock = 0;
        static string At(int minute) => SqlTime.ToText(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(minute));
        foreach (var step in steps)
        {
            var email = $"{step[1..]}@example.org";
            Run(step[0] == '+'
                ? $"""
                  INSERT INTO subscribers (email, name, status, all_topics, created_at, updated_at) VALUES ('{email}', '', 'confirmed', 1, '{At(++clock)}', '{At(clock)}');
                  INSERT INTO consent_events (subscriber_id, event, source, occurred_at) SELECT id, 'confirmed', 'admin', '{At(clock)}' FROM subscribers WHERE email = '{email}';
                  INSERT INTO consent_events (subscriber_id, event, source, occurred_at) SELECT id, 'preferences_changed', 'admin', '{At(clock)}' FROM subscribers WHERE email = '{email}';
                  """
                : $"""
                  DELETE FROM subscribers WHERE email = '{email}';
                  INSERT INTO consent_events (subscriber_id, event, source, occurred_at) VALUES (NULL, 'erased', 'admin', '{At(++clock)}');
                  """);
        }
        return path;
    }

    /// <summary>X (1) and A (2) subscribe, A is erased, B gets id 2 again (A's links now name B), C gets 3, Y gets 4 and is erased.</summary>
    static Task<string> LegacyDatabaseAsync() => LegacyDatabaseAsync("+x", "+a", "-a", "+b", "+c", "+y", "-y");

    public static TheoryData<string, string> Histories => new()
    {
        // steps, then the subscribers whose old links stay valid (in id order)
        { "+x +a -a +b +c +y -y", "x c" },
        { "+x +a +y -y +b +c", "x a c" },           // B took Y's id 3; C's 4 was never anyone's
        { "+x +a +y -a +b", "x y b" },              // A's id 2 was below Y: B got 4, never held before
        { "+x +a +y -y -a +b +c", "x" },            // B took 2 (A's), C took 3 (Y's)
        { "+x -x +a +b", "b" },                     // A took X's id 1
        { "+a +b +c -c -b +d +e +f", "a f" },       // D and E took the ids of B and C; F's 4 is new
        { "+a +b +c", "a b c" },
    };

    [Theory]
    [MemberData(nameof(Histories))]
    public async Task The_upgrade_trusts_old_links_only_of_subscribers_whose_id_was_never_anyone_elses(string steps, string trusted)
    {
        var database = await LegacyDatabaseAsync(steps.Split(' '));
        await using var test = await TestApp.CreateAsync(Keyed(database));

        await using var connection = await test.Get<Db>().OpenAsync();
        await using var query = connection.CreateCommand();
        query.CommandText = "SELECT group_concat(substr(email, 1, instr(email, '@') - 1), ' ') FROM (SELECT email FROM subscribers WHERE legacy_links = 1 ORDER BY id)";
        Assert.Equal(trusted, query.ExecuteScalar() as string);
    }

    [Fact]
    public async Task Links_sent_before_the_change_keep_working_unless_their_id_may_have_been_someone_elses()
    {
        var database = await LegacyDatabaseAsync();
        await using var test = await TestApp.StartWebAsync(Keyed(database));
        using var client = test.CreateClient();
        var store = test.Get<ISubscriberStore>();
        var x = (await store.FindByEmailAsync("x@example.org"))!;
        var b = (await store.FindByEmailAsync("b@example.org"))!;
        var c = (await store.FindByEmailAsync("c@example.org"))!;
        Assert.Equal((1, 2, 3), (x.Id, b.Id, c.Id));

        // X and C: their id was never anyone else's, so the links in their old emails still work (CASL).
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"preferences/{LegacyToken(x.Id, "preferences")}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"u/{LegacyToken(c.Id, "unsubscribe")}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"u/{LegacyToken(c.Id, "unsubscribe")}", OneClick())).StatusCode);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await store.GetAsync(c.Id))!.Status);

        // B holds A's old id: the old token is the same string for both, so it opens neither.
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"preferences/{LegacyToken(b.Id, "preferences")}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"preferences/{LegacyToken(b.Id, "preferences")}/data")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"u/{LegacyToken(b.Id, "unsubscribe")}", OneClick())).StatusCode);
        Assert.Equal(SubscriberStatus.Confirmed, (await store.GetAsync(b.Id))!.Status);
        // ... while the links B is sent from now on work.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"preferences/{test.Get<LinkTokens>().Create(b.Id, LinkPurpose.Preferences)}")).StatusCode);

        // Y (id 4) was erased before the change; whoever is added next may get 4, but never Y's old links.
        var next = await store.AddAsync(new NewSubscriber("z@example.org", "", TopicSelection.All), ConsentContext.Admin);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"preferences/{LegacyToken(next.Id, "preferences")}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"preferences/{LegacyToken(4, "preferences")}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"preferences/{test.Get<LinkTokens>().Create(next.Id, LinkPurpose.Preferences)}")).StatusCode);
    }
}
