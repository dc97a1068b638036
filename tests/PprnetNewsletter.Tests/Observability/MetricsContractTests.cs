using System.Text.RegularExpressions;
using PprnetNewsletter.Observability;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Observability;

/// <summary>The metrics' counts come from the database, the same on SQLite and on PostgreSQL.</summary>
[Collection(nameof(ProcessWideMetrics))]
public sealed class MetricsContractTests
{
    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task The_gauges_read_subscribers_ledger_rows_and_attempts_from_the_database(StorageProvider engine)
    {
        var key = AdminClient.NewKey();
        await using var test = await Engines.StartWebAsync(engine, new Dictionary<string, string?> { ["Admin:ApiKey"] = key });
        var queries = test.Get<IMetricsQueries>();
        Assert.Empty(await queries.LedgerRowsByStateAsync(default));

        var now = DateTimeOffset.UtcNow;
        var edition = await EngineStores.ScalarAsync<long>(test,
            "INSERT INTO editions (month, status, created_at) VALUES ('2023-03', 'sending', @now) RETURNING id", new { now });
        var states = new[] { ("confirmed", "sent"), ("confirmed", "sent"), ("paused", "failed"), ("bounced", "pending") };
        for (var i = 0; i < states.Length; i++)
        {
            var (status, state) = states[i];
            var subscriber = await EngineStores.AddSubscriberAsync(test, $"reader{i}@example.org", status);
            var delivery = await EngineStores.ScalarAsync<long>(test, """
                INSERT INTO deliveries (edition_id, subscriber_id, state, created_at, updated_at) VALUES (@edition, @subscriber, @state, @now, @now)
                RETURNING id
                """, new { edition, subscriber, state, now });
            if (state != "pending")
            {
                await EngineStores.ExecuteAsync(test, """
                    INSERT INTO delivery_attempts (delivery_id, resend_count, attempted_at, outcome) VALUES (@delivery, 0, @now, @state)
                    """, new { delivery, state, now });
            }
        }

        static Dictionary<string, long> Of(IReadOnlyList<KeyCount> counts) => counts.ToDictionary(c => c.Key, c => c.Count);
        Assert.Equal(new Dictionary<string, long> { ["sent"] = 2, ["failed"] = 1, ["pending"] = 1 }, Of(await queries.LedgerRowsByStateAsync(default)));
        Assert.Equal(new Dictionary<string, long> { ["sent"] = 2, ["failed"] = 1 }, Of(await queries.AttemptsByOutcomeAsync(default)));
        Assert.Equal(new Dictionary<string, long> { ["confirmed"] = 2, ["paused"] = 1, ["bounced"] = 1 }, Of(await queries.SubscribersByStatusAsync(default)));

        // And the scrape shows them (the exporter may leave out an instrument whose read failed once: a few scrapes are allowed).
        using var client = test.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        var expected = new[]
        {
            @"^pprnet_ledger_rows\{[^}]*state=""sent""[^}]*\} 2( |$)",
            @"^pprnet_delivery_attempts_total\{[^}]*outcome=""failed""[^}]*\} 1( |$)",
            @"^pprnet_subscribers\{[^}]*status=""bounced""[^}]*\} 1( |$)",
        }.Select(p => new Regex(p, RegexOptions.Multiline)).ToList();
        var metrics = "";
        for (var scrape = 0; scrape < 5 && !expected.All(e => e.IsMatch(metrics)); scrape++)
        {
            await Task.Delay(TimeSpan.FromSeconds(scrape));
            metrics = await client.GetStringAsync("metrics");
        }
        Assert.All(expected, e => Assert.Matches(e, metrics));
    }
}
