using Microsoft.Extensions.Time.Testing;
using PprnetNewsletter.Bounces;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Bounces;

/// <summary>The bounce store's behaviour, the same on SQLite and on PostgreSQL.</summary>
public sealed class BounceStoreContractTests
{
    static NewBounceReport Report(string eventId, ReportKind kind, long? subscriberId = null, string channel = "imap", byte[]? raw = null) =>
        new(channel, eventId, kind, subscriberId, null, "ann@example.org", "5.1.1", "user unknown", raw);

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task A_report_is_stored_once_however_often_its_event_is_replayed(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var store = test.Get<IBounceStore>();
        Assert.False(await store.SeenAsync("ses", "evt-1", default));

        var id = await store.AddAsync(Report("evt-1", ReportKind.Permanent, channel: "ses"), default);
        Assert.NotNull(id);
        await store.SetOutcomeAsync(id.Value, "bounced", default);

        Assert.True(await store.SeenAsync("ses", "evt-1", default));
        Assert.Null(await store.AddAsync(Report("evt-1", ReportKind.Transient, channel: "ses"), default));
        Assert.Null(await store.AddAsync(Report("evt-1", ReportKind.Complaint, channel: "ses"), default));
        // The same event id from another channel is another event.
        Assert.NotNull(await store.AddAsync(Report("evt-1", ReportKind.Permanent, channel: "postmark"), default));

        var page = await store.ListAsync(null, 0, 10, default);
        Assert.Equal(2, page.Total);
        var stored = page.Items.Single(r => r.Channel == "ses");
        Assert.Equal(("permanent", "bounced", "5.1.1", "user unknown"), (stored.Kind, stored.Outcome, stored.Status, stored.Diagnostic));
        Assert.Single((await store.ListAsync("permanent", 0, 1, default)).Items);
        Assert.Equal(0, (await store.ListAsync("complaint", 0, 10, default)).Total);

        // A report whose handling failed is forgotten, so that the event is handled when it comes again.
        await store.RemoveAsync(id.Value, default);
        Assert.False(await store.SeenAsync("ses", "evt-1", default));
        Assert.NotNull(await store.AddAsync(Report("evt-1", ReportKind.Permanent, channel: "ses"), default));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Transient_bounces_are_counted_per_subscriber_within_the_window(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var start = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        var time = new FakeTimeProvider(start);
        var store = EngineStores.Create<IBounceStore, SqliteBounceStore, PgBounceStore>(test, time);
        var ann = await EngineStores.AddSubscriberAsync(test, "ann@example.org", "confirmed");
        var bob = await EngineStores.AddSubscriberAsync(test, "bob@example.org", "confirmed");

        foreach (var day in new[] { 0, 10, 20 })
        {
            time.SetUtcNow(start.AddDays(day));
            await store.AddAsync(Report($"ann-{day}", ReportKind.Transient, ann), default);
        }
        await store.AddAsync(Report("ann-permanent", ReportKind.Permanent, ann), default);
        await store.AddAsync(Report("bob-0", ReportKind.Transient, bob), default);

        Assert.Equal(3, await store.CountTransientAsync(ann, start, default));
        Assert.Equal(2, await store.CountTransientAsync(ann, start.AddDays(10), default));
        Assert.Equal(1, await store.CountTransientAsync(ann, start.AddDays(10).AddTicks(10), default));
        Assert.Equal(1, await store.CountTransientAsync(bob, start, default));
        var newest = (await store.ListAsync("transient", 0, 1, default)).Items.Single();
        Assert.Equal(start.AddDays(20), newest.ReceivedAt);
        Assert.Equal("bob@example.org", newest.Email);
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task The_raw_report_is_kept_up_to_256_KB_and_marked_when_cut(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var store = test.Get<IBounceStore>();
        var large = new byte[300_000];
        Random.Shared.NextBytes(large);

        var big = (await store.AddAsync(Report("<big@example.org>", ReportKind.AutoReply, raw: large), default))!.Value;
        var small = (await store.AddAsync(Report("<small@example.org>", ReportKind.Mailto, raw: [1, 2, 3]), default))!.Value;
        var none = (await store.AddAsync(Report("<none@example.org>", ReportKind.Complaint), default))!.Value;

        var view = (await store.GetAsync(big, default))!;
        Assert.Equal((256 * 1024L, true), (view.RawBytes, view.RawTruncated));
        Assert.Equal(large[..(256 * 1024)], await store.RawAsync(big, default));
        Assert.Equal((3L, false), ((await store.GetAsync(small, default))!.RawBytes, (await store.GetAsync(small, default))!.RawTruncated));
        Assert.Equal([1, 2, 3], await store.RawAsync(small, default));
        Assert.Equal(0L, (await store.GetAsync(none, default))!.RawBytes);
        Assert.Null(await store.RawAsync(none, default));
        Assert.Null(await store.GetAsync(none + 100, default));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task A_bounce_finds_its_delivery_by_message_id_and_marks_it_failed_with_history(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var store = test.Get<IBounceStore>();
        var ann = await EngineStores.AddSubscriberAsync(test, "ann@example.org", "confirmed");
        var now = DateTimeOffset.UtcNow;
        var edition = await EngineStores.ScalarAsync<long>(test,
            "INSERT INTO editions (month, status, created_at) VALUES ('2023-03', 'sent', @now) RETURNING id", new { now });
        var messageId = $"2023-03.{ann}.abc@news.example.org";
        await EngineStores.ExecuteAsync(test, """
            INSERT INTO deliveries (edition_id, subscriber_id, state, attempts, message_id, created_at, updated_at, sent_at)
            VALUES (@edition, @ann, 'sent', 1, @messageId, @now, @now, @now)
            """, new { edition, ann, messageId, now });

        Assert.Equal((ann, edition), await store.FindDeliveryAsync(messageId, default));
        Assert.Null(await store.FindDeliveryAsync($"2023-03.{ann}.forged@news.example.org", default));
        Assert.Null(await store.FindDeliveryAsync("not-a-digest@example.org", default));

        Assert.True(await store.FailDeliveryAsync(ann, edition, "5.1.1", "user unknown", default));
        Assert.False(await store.FailDeliveryAsync(ann + 1000, edition, null, "nobody", default));
        Assert.Equal("failed|5.1.1|user unknown", await EngineStores.ScalarAsync<string>(test,
            "SELECT state || '|' || enhanced_status || '|' || last_error FROM deliveries WHERE subscriber_id = @ann", new { ann }));
        Assert.Equal("failed", await EngineStores.ScalarAsync<string>(test,
            "SELECT outcome FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.subscriber_id = @ann", new { ann }));
    }
}
