using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Delivery.DeliveryTestData;

namespace PprnetNewsletter.Tests.Delivery;

/// <summary>
/// The delivery ledger's contract (<see cref="IDeliveryStore"/>), asserted alike for SQLite and PostgreSQL: the same
/// calls through the interface, on a real database of each engine, give the same rows.
/// </summary>
public sealed class DeliveryStoreContractTests
{
    static readonly DateTimeOffset Now = new(2031, 5, 1, 9, 0, 0, TimeSpan.Zero);

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Starting_an_edition_enqueues_each_eligible_subscriber_once_and_settles_those_without_a_matching_topic(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var edition = await SeedEditionAsync(test);
        await TagSummariesAsync(test, edition, "empathy");
        await SeedSubscribersAsync(test, 3, "all");
        await SeedSubscribersAsync(test, 2, "match");
        await SeedSubscribersAsync(test, 2, "other");
        await SeedSubscribersAsync(test, 2, "unconfirmed", "pending");
        await ChooseTopicsAsync(test, "match", "empathy");
        await ChooseTopicsAsync(test, "other", "training");
        // An erased address that came back confirmed (by hand, say): its suppression keeps it off the list.
        await SeedSubscribersAsync(test, 1, "Erased.Person");
        await SuppressAsync(test, "erased.person1@example.org");
        var store = test.Get<IDeliveryStore>();

        var first = await store.StartAsync(edition, Now, skipWithoutMatch: true);
        var second = await store.StartAsync(edition, Now, skipWithoutMatch: true);
        var again = await store.EnqueueConfirmedAfterAsync(edition, DateTimeOffset.MinValue, Now, skipWithoutMatch: true);

        Assert.Equal(new Enqueued(7, 2), first);
        Assert.Null(second);
        Assert.Equal(new Enqueued(0, 0), again);
        Assert.Equal(new Dictionary<string, long> { ["pending"] = 5, ["skipped"] = 2 }, await StatesAsync(test));
        await using var connection = await OpenAsync(test);
        Assert.Equal(
            [("other1@example.org", DeliveryReason.NoMatchingTopics), ("other2@example.org", DeliveryReason.NoMatchingTopics)],
            (await connection.QueryAsync<(string, string)>("""
                SELECT s.email, d.last_error FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
                WHERE d.state = 'skipped' ORDER BY s.email
                """)).ToList());
        Assert.Equal("sending", (await store.FindEditionAsync(Month))!.Status);
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Subscribers_confirmed_after_the_send_are_enqueued_by_a_later_call_and_only_they(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var edition = await SeedEditionAsync(test);
        await SeedSubscribersAsync(test, 3, "early", confirmedAt: Now.AddDays(-1));
        var store = test.Get<IDeliveryStore>();
        await store.StartAsync(edition, Now, skipWithoutMatch: false);
        await SeedSubscribersAsync(test, 2, "late", confirmedAt: Now.AddDays(1));

        var added = await store.EnqueueConfirmedAfterAsync(edition, Now, Now.AddDays(2), skipWithoutMatch: false);

        Assert.Equal(new Enqueued(2, 0), added);
        Assert.Equal(new Dictionary<string, long> { ["pending"] = 5 }, await StatesAsync(test));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Two_apps_claiming_the_same_edition_at_once_get_disjoint_rows_that_together_are_the_whole_list(StorageProvider engine)
    {
        const int readers = 1500;
        await using var first = await Engines.CreateAppAsync(engine);
        await using var second = await SameDatabaseAsync(first);
        var edition = await SeedEditionAsync(first);
        await SeedSubscribersAsync(first, readers);
        await first.Get<IDeliveryStore>().StartAsync(edition, Now, skipWithoutMatch: false);

        // Each app claims small batches as fast as it can until nothing is left, both at the same time.
        async Task<List<long>> ClaimAllAsync(TestApp app, long owner)
        {
            var store = app.Get<IDeliveryStore>();
            var mine = new List<long>();
            while (await store.ClaimAsync(edition, owner, 25, Now, Now.AddMinutes(5)) is { Count: > 0 } batch)
            {
                mine.AddRange(batch.Select(r => r.DeliveryId));
            }
            return mine;
        }
        var claims = await Task.WhenAll(Task.Run(() => ClaimAllAsync(first, 1)), Task.Run(() => ClaimAllAsync(second, 2)));

        Assert.Empty(claims[0].Intersect(claims[1]));
        Assert.Equal(readers, claims[0].Count + claims[1].Count);
        Assert.Equal(readers, claims[0].Concat(claims[1]).Distinct().Count());
        Assert.Equal(new Dictionary<string, long> { ["sending"] = readers }, await StatesAsync(first));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task A_claim_returns_the_recipient_as_now_with_topics_and_a_lapsed_lease_goes_to_another_run_only(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var edition = await SeedEditionAsync(test);
        await SeedSubscribersAsync(test, 3, "match");
        await ChooseTopicsAsync(test, "match", "training", "empathy");
        var store = test.Get<IDeliveryStore>();
        await store.StartAsync(edition, Now, skipWithoutMatch: false);
        var topicIds = await TopicIdsAsync(test, "empathy", "training");

        var held = await store.ClaimAsync(edition, owner: 1, 2, Now, Now.AddSeconds(30));
        var beforeLapse = await store.ClaimAsync(edition, owner: 2, 10, Now.AddSeconds(29), Now.AddSeconds(59));
        var later = Now.AddSeconds(31);
        var sameRun = await store.ClaimAsync(edition, owner: 1, 10, later, later.AddSeconds(30));
        var otherRun = await store.ClaimAsync(edition, owner: 3, 10, later, later.AddSeconds(30));

        var row = held[0];
        Assert.Equal(("match1@example.org", "Reader", false, "confirmed"), (row.Recipient!.Email, row.Recipient.Name, row.Recipient.AllTopics, row.SubscriberStatus));
        Assert.Equal(topicIds, row.Recipient.TopicIds.ToArray());
        Assert.Equal((0, (DateTimeOffset?)null), (row.ResendCount, row.FirstAttemptAt));
        // Before the lapse another run gets only the row nobody held; the run holding two never claims them back.
        Assert.DoesNotContain(Assert.Single(beforeLapse).DeliveryId, held.Select(r => r.DeliveryId));
        Assert.Empty(sameRun);
        Assert.Equal(held.Select(r => r.DeliveryId), otherRun.Select(r => r.DeliveryId));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Outcomes_settle_defer_and_fail_rows_with_their_history_and_the_counts_follow(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var (store, edition) = await StartWithReadersAsync(test, 5);
        var rows = await store.ClaimAsync(edition, owner: 1, 5, Now, Now.AddSeconds(30));
        var retryAt = Now.AddMinutes(10);
        var at = Now.AddSeconds(1);
        var earlier = new DeliveryOutcome(rows[0].DeliveryId, 0, DeliveryState.Deferred, Now, SmtpCode: 451, EnhancedStatus: "4.3.0", Reply: "451 4.3.0 try again");

        using (var writer = store.OpenOutcomeWriter())
        {
            writer.Record([
                new DeliveryOutcome(rows[0].DeliveryId, 0, DeliveryState.Sent, at, Reply: "250 2.0.0 Ok", MessageId: "m0@example.org") { Earlier = [earlier] },
                new DeliveryOutcome(rows[1].DeliveryId, 0, DeliveryState.Deferred, at, retryAt, 421, "4.7.0", "421 4.7.0 busy"),
                new DeliveryOutcome(rows[2].DeliveryId, 0, DeliveryState.Failed, at, SmtpCode: 550, EnhancedStatus: "5.1.1", Reply: "550 5.1.1 no such user"),
            ]);
            writer.Record([new DeliveryOutcome(rows[3].DeliveryId, 0, DeliveryState.Skipped, at, Error: DeliveryReason.NoMatchingTopics)]);
        }
        await store.ReleaseAsync([rows[4].DeliveryId], at);
        var counts = await store.CountsAsync(edition, topReasons: 5);

        Assert.Equal(new Dictionary<string, long> { ["pending"] = 1, ["sending"] = 0, ["sent"] = 1, ["deferred"] = 1, ["failed"] = 1, ["skipped"] = 1 },
            counts.ByState);
        Assert.Equal([new FailureReason("deferred", "421 4.7.0", 1, "421 4.7.0 busy"), new FailureReason("failed", "550 5.1.1", 1, "550 5.1.1 no such user")],
            counts.TopReasons.OrderBy(r => r.State).ToList());
        Assert.Equal(retryAt, await store.NextDeferredAttemptAsync(edition));
        // Pending now; the deferred row joins once it is due.
        Assert.Equal((1L, 1L), (await store.CountClaimableAsync(edition, at), await store.CountLeftAsync(edition, at)));
        Assert.Equal((2L, 2L), (await store.CountClaimableAsync(edition, retryAt), await store.CountLeftAsync(edition, retryAt)));
        await using var connection = await OpenAsync(test);
        Assert.Equal(
            [(rows[0].DeliveryId, "deferred", (long?)451), (rows[0].DeliveryId, "sent", null), (rows[1].DeliveryId, "deferred", 421),
             (rows[2].DeliveryId, "failed", 550), (rows[3].DeliveryId, "skipped", null)],
            (await connection.QueryAsync<(long, string, long?)>(
                "SELECT delivery_id, outcome, CAST(smtp_code AS bigint) FROM delivery_attempts ORDER BY id")).ToList());
        var sent = await connection.QuerySingleAsync<(string, long, string, DateTimeOffset)>(
            "SELECT state, CAST(attempts AS bigint), message_id, sent_at FROM deliveries WHERE id = @id", new { id = rows[0].DeliveryId });
        Assert.Equal(("sent", 1L, "m0@example.org", at), sent);
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task A_group_of_outcomes_that_fails_part_way_commits_none_of_them_and_the_writer_carries_on(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var (store, edition) = await StartWithReadersAsync(test, 2);
        var rows = await store.ClaimAsync(edition, owner: 1, 2, Now, Now.AddSeconds(30));
        DeliveryOutcome Sent(ClaimedDelivery row) => new(row.DeliveryId, 0, DeliveryState.Sent, Now, Reply: "250 2.0.0 Ok");

        using var writer = store.OpenOutcomeWriter();
        // The second outcome breaks the table's CHECK on states.
        Assert.ThrowsAny<DbException>(() => writer.Record([Sent(rows[0]), Sent(rows[1]) with { State = "lost" }]));
        var afterFailure = await StatesAsync(test);
        writer.Record([Sent(rows[0]), Sent(rows[1])]);

        Assert.Equal(new Dictionary<string, long> { ["sending"] = 2 }, afterFailure);
        Assert.Equal(new Dictionary<string, long> { ["sent"] = 2 }, await StatesAsync(test));
        Assert.Equal(2L, await ScalarAsync<long>(test, "SELECT count(*) FROM delivery_attempts"));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Resends_requeue_failed_rows_of_confirmed_subscribers_and_one_subscriber_as_a_new_round(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var (store, edition) = await StartWithReadersAsync(test, 3);
        var rows = await store.ClaimAsync(edition, owner: 1, 3, Now, Now.AddSeconds(30));
        using (var writer = store.OpenOutcomeWriter())
        {
            writer.Record([
                new DeliveryOutcome(rows[0].DeliveryId, 0, DeliveryState.Failed, Now, SmtpCode: 554),
                new DeliveryOutcome(rows[1].DeliveryId, 0, DeliveryState.Failed, Now, SmtpCode: 554),
                new DeliveryOutcome(rows[2].DeliveryId, 0, DeliveryState.Sent, Now),
            ]);
        }
        Assert.True(await store.CompleteIfDoneAsync(edition, Now));
        await ScalarAsync<long>(test, "UPDATE subscribers SET status = 'unsubscribed' WHERE id = @id", new { id = rows[1].Recipient!.SubscriberId });

        var failed = await store.RequeueFailedAsync(edition, Now);
        var one = await store.RequeueOneAsync(edition, rows[2].Recipient!.SubscriberId, Now);
        var oneAgain = await store.RequeueOneAsync(edition, rows[2].Recipient!.SubscriberId, Now);
        var due = await store.EditionsWithDueWorkAsync(Now);
        var claimed = await store.ClaimAsync(edition, owner: 2, 10, Now, Now.AddSeconds(30));

        Assert.Equal((1, 1), failed);
        Assert.True(one);
        Assert.False(oneAgain);
        Assert.Equal([Month], due);
        Assert.Equal([(rows[0].DeliveryId, 1), (rows[2].DeliveryId, 1)], claimed.Select(r => (r.DeliveryId, r.ResendCount)).ToList());
        Assert.Equal("sent", (await store.FindEditionAsync(Month))!.Status);
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task A_deleted_subscribers_rows_stay_without_a_subscriber_and_a_claim_returns_them_without_a_recipient(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var (store, edition) = await StartWithReadersAsync(test, 2);

        await ScalarAsync<long>(test, "DELETE FROM subscribers WHERE email = 'reader1@example.org'");
        var claimed = await store.ClaimAsync(edition, owner: 1, 10, Now, Now.AddSeconds(30));

        Assert.Equal(1L, await ScalarAsync<long>(test, "SELECT count(*) FROM deliveries WHERE subscriber_id IS NULL"));
        Assert.Equal([null, "reader2@example.org"], claimed.Select(r => r.Recipient?.Email));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task The_dry_run_streams_eligible_subscribers_without_a_finished_row(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var edition = await SeedEditionAsync(test);
        await SeedSubscribersAsync(test, 3);
        await SeedSubscribersAsync(test, 1, "gone", "unsubscribed");
        await ChooseTopicsAsync(test, "reader1", "empathy");
        var store = test.Get<IDeliveryStore>();
        await store.StartAsync(edition, Now, skipWithoutMatch: false);
        var rows = await store.ClaimAsync(edition, owner: 1, 1, Now, Now.AddSeconds(30));
        using (var writer = store.OpenOutcomeWriter())
        {
            writer.Record([new DeliveryOutcome(rows[0].DeliveryId, 0, DeliveryState.Sent, Now)]);
        }

        var eligible = new List<Recipient>();
        await foreach (var r in store.StreamEligibleAsync(edition))
        {
            eligible.Add(r);
        }

        Assert.Equal(["reader2@example.org", "reader3@example.org"], eligible.Select(r => r.Email));
        Assert.All(eligible, r => Assert.True(r.AllTopics));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task The_engine_sends_an_edition_once_to_everyone_and_a_dead_runs_rows_are_taken_over_once_its_lease_lapsed(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var edition = await SeedEditionAsync(test);
        var emails = await SeedSubscribersAsync(test, 40);
        var start = DateTimeOffset.UtcNow;
        var store = test.Get<IDeliveryStore>();
        var runs = test.Get<IEditionRuns>();
        var lease = test.Get<IOptions<DeliveryOptions>>().Value.LeaseDuration;
        // A run that died holding the edition and 10 rows: it started the send, claimed, and never came back.
        await store.StartAsync(edition, start, skipWithoutMatch: false);
        Assert.True(await runs.TryAcquireAsync(edition, owner: 7, start, start + lease, CancellationToken.None));
        var held = await store.ClaimAsync(edition, owner: 7, 10, start, start + lease);

        var resumed = await test.Sender(new FakeTimeProvider(start + lease + TimeSpan.FromSeconds(1))).SendAsync(Month);
        var again = await test.Sender(new FakeTimeProvider(start + lease + TimeSpan.FromSeconds(2))).SendAsync(Month);

        Assert.Equal(10, held.Count);
        Assert.Equal((40L, true), (resumed.Sent, resumed.EditionSent));
        Assert.Equal(0, again.Processed);
        Assert.Equal(new Dictionary<string, long> { ["sent"] = 40 }, await StatesAsync(test));
        var sentTo = Directory.GetFiles(test.OutboxPath, "*.eml").Select(f => MimeKit.MimeMessage.Load(f).To.Mailboxes.Single().Address).Order().ToList();
        Assert.Equal(emails.Order(), sentTo);
        Assert.Null(await runs.HolderAsync(edition, CancellationToken.None));
    }

    /// <summary>An edition started with <paramref name="readers"/> confirmed subscribers, all pending.</summary>
    static async Task<(IDeliveryStore Store, long Edition)> StartWithReadersAsync(TestApp test, int readers)
    {
        var edition = await SeedEditionAsync(test);
        await SeedSubscribersAsync(test, readers);
        var store = test.Get<IDeliveryStore>();
        await store.StartAsync(edition, Now, skipWithoutMatch: false);
        return (store, edition);
    }

    /// <summary>A second app on the first one's database (the same SQLite file, or the same PostgreSQL database).</summary>
    internal static Task<TestApp> SameDatabaseAsync(TestApp first, Dictionary<string, string?>? config = null)
    {
        var storage = first.Get<IOptions<StorageOptions>>().Value;
        var all = new Dictionary<string, string?>(config ?? [])
        {
            ["Storage:Provider"] = storage.Provider.ToString(),
            ["Storage:ConnectionString"] = storage.ConnectionString,
            ["Storage:Database"] = first.DatabasePath,
        };
        return TestApp.CreateAsync(all);
    }

    static async Task TagSummariesAsync(TestApp test, long edition, string topic)
    {
        await using var connection = await OpenAsync(test);
        await connection.ExecuteAsync("""
            INSERT INTO summary_topics (summary_id, topic_id)
            SELECT s.id, t.id FROM summaries s, topics t WHERE s.edition_id = @edition AND t.slug = @topic
            """, new { edition, topic });
    }

    /// <summary>Gives the subscribers whose address starts with <paramref name="prefix"/> these topics instead of all topics.</summary>
    static async Task ChooseTopicsAsync(TestApp test, string prefix, params string[] topics)
    {
        await using var connection = await OpenAsync(test);
        await connection.ExecuteAsync("UPDATE subscribers SET all_topics = @no WHERE email LIKE @like", new { no = false, like = prefix + "%" });
        foreach (var topic in topics)
        {
            await connection.ExecuteAsync("""
                INSERT INTO subscriber_topics (subscriber_id, topic_id)
                SELECT s.id, t.id FROM subscribers s, topics t WHERE s.email LIKE @like AND t.slug = @topic
                """, new { like = prefix + "%", topic });
        }
    }

    static async Task<long[]> TopicIdsAsync(TestApp test, params string[] slugs)
    {
        await using var connection = await OpenAsync(test);
        var ids = new List<long>();
        foreach (var slug in slugs)
        {
            ids.Add(await connection.ExecuteScalarAsync<long>("SELECT id FROM topics WHERE slug = @slug", new { slug }));
        }
        return [.. ids.Order()];
    }

    static async Task SuppressAsync(TestApp test, string email)
    {
        await using var connection = await OpenAsync(test);
        await connection.ExecuteAsync("INSERT INTO suppressions (email_hash, reason, created_at) VALUES (@hash, 'erased', @at)",
            new { hash = SubscriberStore.SuppressionHash(email), at = Now });
    }
}
