using System.Net;
using Microsoft.Extensions.Time.Testing;
using PprnetNewsletter.Admin;
using PprnetNewsletter.Admin.Dashboard;
using PprnetNewsletter.Content;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Content;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Admin;

/// <summary>The admin feature's stores (accounts, audit log, dashboard and API reads), the same on SQLite and on PostgreSQL.</summary>
public sealed class AdminStoreContractTests
{
    const string Password = "correct horse battery";

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Administrators_are_added_found_and_removed_whatever_the_case_of_their_address(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var accounts = test.Get<AdminAccounts>();

        var ann = await accounts.AddAsync(" Ann@Example.ORG ", Password);
        await accounts.AddAsync("bob@example.org", Password + "!");
        await accounts.AddAsync("Aaron@example.org", Password + "?");

        Assert.Equal("Ann@example.org", ann.Email);
        Assert.True(await accounts.ExistsAsync("ann@example.org"));
        Assert.True(await accounts.ExistsAsync("ANN@EXAMPLE.ORG"));
        Assert.False(await accounts.ExistsAsync("anne@example.org"));
        var taken = await Assert.ThrowsAsync<UsageException>(() => accounts.AddAsync("ANN@example.org", Password));
        Assert.Contains("already an administrator", taken.Message);
        Assert.Equal(["Aaron@example.org", "Ann@example.org", "bob@example.org"], (await accounts.ListAsync()).Select(a => a.Email));

        Assert.Equal(ann.Id, (await accounts.VerifyAsync("ann@EXAMPLE.org", Password))!.Id);
        Assert.Null(await accounts.VerifyAsync("ann@example.org", Password + "!"));

        Assert.True(await accounts.RemoveAsync("ANN@example.org"));
        Assert.False(await accounts.RemoveAsync("ann@example.org"));
        Assert.False(await accounts.ExistsAsync("Ann@example.org"));
        Assert.Null(await accounts.VerifyAsync("ann@example.org", Password));
        Assert.Equal(2, (await accounts.ListAsync()).Count);
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Of_two_adds_of_one_address_at_once_one_succeeds_and_the_other_says_it_is_taken(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var accounts = test.Get<AdminAccounts>();

        var adds = await Task.WhenAll(Enumerable.Range(0, 4).Select(async i =>
        {
            try
            {
                await accounts.AddAsync(i % 2 == 0 ? "cy@example.org" : "CY@Example.org", Password);
                return "added";
            }
            catch (UsageException e)
            {
                return e.Message;
            }
        }));

        Assert.Single(adds, a => a == "added");
        Assert.All(adds.Where(a => a != "added"), a => Assert.Contains("already an administrator", a));
        Assert.Single(await accounts.ListAsync());
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task The_audit_log_keeps_each_action_and_lists_the_newest_first(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var start = new DateTimeOffset(2026, 3, 1, 9, 30, 15, 123, TimeSpan.Zero);
        var time = new FakeTimeProvider(start);
        var audit = new AuditLog(EngineStores.Create<IAuditStore, SqliteAuditStore, PgAuditStore>(test), time);

        await audit.RecordAsync("ann@example.org", "signed in", null, "127.0.0.1");
        time.Advance(TimeSpan.FromMinutes(1));
        await audit.RecordAsync("ann@example.org", "sent edition", "2023-03", "::1");
        time.Advance(TimeSpan.FromMinutes(1));
        await audit.RecordAsync("bob@example.org", "signed out", null, null);

        Assert.Equal(3, await audit.CountAsync());
        var page = await audit.ListAsync(0, 2);
        Assert.Equal(["signed out", "sent edition"], page.Select(e => e.Action));
        var sent = page[1];
        Assert.Equal(("ann@example.org", "2023-03", "::1", start.AddMinutes(1)), (sent.AdminEmail, sent.Detail, sent.ClientIp, sent.OccurredAt));
        Assert.Null(page[0].ClientIp);
        Assert.Equal(["signed in"], (await audit.ListAsync(2, 2)).Select(e => e.Action));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Signing_in_to_the_dashboard_is_written_to_the_audit_log_and_shown_on_its_page(StorageProvider engine)
    {
        await using var test = await Engines.StartWebAsync(engine);
        using var session = await AdminDashboard.SignInAsync(test);

        var (status, html) = await session.GetAsync("/admin/audit");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("signed in", html);
        Assert.Contains(AdminDashboard.Email, html);
        var entry = Assert.Single(await test.Get<AuditLog>().ListAsync(0, 10));
        Assert.Equal((AdminDashboard.Email, "signed in"), (entry.AdminEmail, entry.Action));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task The_dashboard_counts_subscribers_by_status_and_topic_and_sent_messages_by_minute(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        await test.Get<SummaryImporter>().ImportAsync(ContentFixtures.SampleFolder);
        var queries = test.Get<IDashboardQueries>();
        var ann = await EngineStores.AddSubscriberAsync(test, "ann@example.org", "confirmed", allTopics: false);
        var ben = await EngineStores.AddSubscriberAsync(test, "ben.50%_off@example.org", "paused", allTopics: false);
        var cy = await EngineStores.AddSubscriberAsync(test, "cy@example.org", "confirmed", allTopics: true);
        var dee = await EngineStores.AddSubscriberAsync(test, "dee@example.org", "pending", allTopics: true);
        await EngineStores.AddSubscriberAsync(test, "eve@example.org", "unsubscribed", allTopics: false);
        await EngineStores.ExecuteAsync(test, """
            INSERT INTO subscriber_topics (subscriber_id, topic_id) SELECT @ann, id FROM topics WHERE slug IN ('training', 'empathy');
            INSERT INTO subscriber_topics (subscriber_id, topic_id) SELECT @ben, id FROM topics WHERE slug = 'training';
            """, new { ann, ben });

        Assert.Equal(new Dictionary<string, long> { ["confirmed"] = 2, ["paused"] = 1, ["pending"] = 1, ["unsubscribed"] = 1 },
            await queries.SubscribersPerStatusAsync(default));
        var perTopic = await queries.SubscribersPerTopicAsync(default);
        Assert.Equal(36, perTopic.Count);
        Assert.Equal(perTopic.Select(t => t.Name).Order(StringComparer.Ordinal), perTopic.Select(t => t.Name));
        Assert.Equal(3, perTopic.Single(t => t.Slug == "training").Count);
        Assert.Equal(2, perTopic.Single(t => t.Slug == "empathy").Count);
        Assert.Equal(1, perTopic.Single(t => t.Slug == "anxiety-disorders").Count);

        Assert.Equal([ann, ben, cy, dee], await queries.SubscriberIdsWithTopicAsync("training", null, null, default));
        Assert.Equal([ann, cy], await queries.SubscriberIdsWithTopicAsync("training", "confirmed", null, default));
        Assert.Equal([ben], await queries.SubscriberIdsWithTopicAsync("training", null, "50%_OFF", default));
        Assert.Equal([ann], await queries.SubscriberIdsWithTopicAsync("empathy", "confirmed", "ANN", default));
        Assert.Empty(await queries.SubscriberIdsWithTopicAsync("training", null, "n%o", default));

        var march = (await test.Get<IContentStore>().GetEditionAsync("2023-03"))!;
        var nine = new DateTimeOffset(2023, 3, 1, 9, 0, 0, TimeSpan.Zero);
        foreach (var (subscriber, sentAt) in new[] { (ann, nine.AddSeconds(5)), (ben, nine.AddSeconds(59.9)), (cy, nine.AddMinutes(2)) })
        {
            await EngineStores.ExecuteAsync(test, """
                INSERT INTO deliveries (edition_id, subscriber_id, state, created_at, updated_at, sent_at)
                VALUES (@edition, @subscriber, 'sent', @sentAt, @sentAt, @sentAt)
                """, new { edition = march.Id, subscriber, sentAt });
        }
        var perMinute = await queries.SentPerMinuteAsync("2023-03", default);
        Assert.Equal([("2023-03-01T09:00", 2L), ("2023-03-01T09:02", 1L)], perMinute.Select(m => (m.Minute, m.Count)));
        Assert.Empty(await queries.SentPerMinuteAsync("2023-01", default));

        var rows = await test.Get<IAdminQueries>().DeliveriesAsync("2023-03", "sent", 1, 10, default);
        Assert.Equal([("ben.50%_off@example.org", "sent"), ("cy@example.org", "sent")], rows.Select(r => (r.Email!, r.State)));
        Assert.Equal(nine.AddMinutes(2), rows[1].SentAt);
        Assert.Empty(await test.Get<IAdminQueries>().DeliveriesAsync("2023-03", "failed", 0, 10, default));

        var source = (await queries.SummaryAsync("capacity-to-mentalize", default))!;
        Assert.Equal(("2023-03", "draft", 1L), (source.Month, source.EditionStatus, source.Position));
        Assert.Equal(["client-factors", "depression-and-depressive-symptoms", "psychodynamic-therapy-pdt", "self-reflection-and-awareness"],
            source.TopicSlugs);
        Assert.Null(await queries.SummaryAsync("no-such-summary", default));
    }
}
