using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Storage.Postgres;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Delivery;

/// <summary>
/// A stand-in for the digests feature behind the engine's own seam: one small plain-text message per recipient,
/// Message-ID from the month, subscriber and resend round; <paramref name="matches"/> decides who gets nothing.
/// </summary>
sealed class TestMessageFactory(IDeliveryStore ledger, Func<Recipient, bool>? matches = null) : IEditionMessageFactory
{
    public async Task<IEditionMessages?> PrepareAsync(string month, CancellationToken ct) =>
        await ledger.FindEditionAsync(month, ct) is { } edition ? new Messages(edition, matches ?? (_ => true)) : null;

    sealed class Messages(EditionInfo edition, Func<Recipient, bool> matches) : IEditionMessages
    {
        public long EditionId => edition.Id;

        public string Month => edition.Month;

        public int SummaryCount => (int)edition.SummaryCount;

        // The test's own matching rule is unknown to the ledger: every row goes through Compose.
        public bool SkipsWithoutMatchingTopics => false;

        public MimeMessage? Compose(Recipient recipient, int resendCount)
        {
            if (!matches(recipient))
            {
                return null;
            }
            var message = new MimeMessage();
            message.From.Add(new MailboxAddress("PPRNet Research Digest", "digest@pprnet.example.org"));
            message.To.Add(new MailboxAddress(recipient.Name, recipient.Email));
            message.Subject = $"PPRNet digest {Month}";
            message.MessageId = $"{Month}.{recipient.SubscriberId}.{resendCount}@pprnet.example.org";
            message.Body = new TextPart("plain") { Text = $"Hello {recipient.Name}, your topics: {string.Join(",", recipient.TopicIds)}" };
            return message;
        }
    }
}

static class DeliveryTestData
{
    public const string Month = "2023-03";

    static readonly DateTimeOffset LongAgo = new(2023, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Short back-offs and pauses, so fault tests take milliseconds, and deferred rows due at once.</summary>
    public static Dictionary<string, string?> Fast(Dictionary<string, string?>? config = null)
    {
        var fast = new Dictionary<string, string?>
        {
            ["Delivery:RetryAttempts"] = "2",
            ["Delivery:RetryDelay"] = "00:00:00.010",
            ["Delivery:CircuitBreakDuration"] = "00:00:00.500",
            ["Delivery:DeferredRetryInterval"] = "00:00:00",
            ["Smtp:Timeout"] = "00:00:05",
        };
        foreach (var (key, value) in config ?? [])
        {
            fast[key] = value;
        }
        return fast;
    }

    /// <summary>A connection to the app's database, whichever engine it runs on (for SQL both engines read alike).</summary>
    public static async Task<DbConnection> OpenAsync(TestApp test) =>
        test.Get<IOptions<StorageOptions>>().Value.Provider == StorageProvider.Postgres
            ? await test.Get<PgDb>().OpenAsync()
            : await test.Get<Db>().OpenAsync();

    public static async Task<long> SeedEditionAsync(TestApp test, string month = Month, int summaries = 2)
    {
        await using var connection = await OpenAsync(test);
        var id = await connection.ExecuteScalarAsync<long>(
            "INSERT INTO editions (month, created_at) VALUES (@month, @now) RETURNING id", new { month, now = LongAgo });
        for (var i = 1; i <= summaries; i++)
        {
            await connection.ExecuteAsync("""
                INSERT INTO summaries (edition_id, slug, position, title, body_markdown, body_html, body_text,
                    implications_markdown, implications_html, implications_text, imported_at, updated_at)
                VALUES (@id, @slug, @i, 'Title', 'b', '<p>b</p>', 'b', 'i', '<p>i</p>', 'i', @at, @at)
                """, new { id, i, slug = $"{month}-summary-{i}", at = LongAgo });
        }
        return id;
    }

    /// <summary>Adds subscribers prefix1@example.org … prefixN@example.org and returns their addresses.</summary>
    public static async Task<IReadOnlyList<string>> SeedSubscribersAsync(
        TestApp test, int count, string prefix = "reader", string status = "confirmed", DateTimeOffset? confirmedAt = null)
    {
        await using var connection = await OpenAsync(test);
        var emails = Enumerable.Range(1, count).Select(i => $"{prefix}{i}@example.org").ToList();
        foreach (var email in emails)
        {
            await connection.ExecuteAsync("""
                INSERT INTO subscribers (email, name, status, all_topics, created_at, confirmed_at, updated_at)
                VALUES (@email, 'Reader', @status, @allTopics, @at, @confirmed, @at)
                """, new { email, status, allTopics = true, at = LongAgo, confirmed = status == "confirmed" ? confirmedAt ?? LongAgo : (DateTimeOffset?)null });
        }
        return emails;
    }

    /// <summary>The engine as the application builds it, with the test message factory and optional substitutes.</summary>
    public static EditionSender Sender(this TestApp test, TimeProvider? clock = null, IMailTransport? transport = null, Func<Recipient, bool>? matches = null)
    {
        var args = new List<object> { new TestMessageFactory(test.Get<IDeliveryStore>(), matches) };
        if (clock is not null)
        {
            args.Add(clock);
        }
        if (transport is not null)
        {
            args.Add(transport);
        }
        return ActivatorUtilities.CreateInstance<EditionSender>(test.App.Services, [.. args]);
    }

    /// <summary>The app's delivery worker with the test's engine (<see cref="Sender"/>) and clock, started (the app itself is not).</summary>
    public static async Task<DeliveryWorker> StartWorkerAsync(this TestApp test, TimeProvider clock)
    {
        var worker = ActivatorUtilities.CreateInstance<DeliveryWorker>(test.App.Services, test.Sender(clock), clock);
        await worker.StartAsync(CancellationToken.None);
        return worker;
    }

    /// <summary>One pass of the retry job at the time of <paramref name="clock"/>, on a worker of its own.</summary>
    public static async Task<IReadOnlyList<SendResult>> ResumeDueAsync(this TestApp test, TimeProvider clock)
    {
        var worker = await test.StartWorkerAsync(clock);
        try
        {
            return await worker.ResumeDueAsync(CancellationToken.None);
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    public static async Task<Dictionary<string, long>> StatesAsync(TestApp test, string month = Month)
    {
        await using var connection = await OpenAsync(test);
        var rows = await connection.QueryAsync<(string, long)>(
            "SELECT d.state, count(*) FROM deliveries d JOIN editions e ON e.id = d.edition_id WHERE e.month = @month GROUP BY d.state",
            new { month });
        return rows.ToDictionary(r => r.Item1, r => r.Item2);
    }

    public static async Task<T> ScalarAsync<T>(TestApp test, string sql, object? args = null)
    {
        await using var connection = await OpenAsync(test);
        return (await connection.ExecuteScalarAsync<T>(sql, args))!;
    }
}
