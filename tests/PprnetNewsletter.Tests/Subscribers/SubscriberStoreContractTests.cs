using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PprnetNewsletter.Content;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Subscribers;

/// <summary>
/// The contract of <see cref="ISubscriberStore"/>: every test runs once on SQLite and once on PostgreSQL, through the
/// interface, and asserts the same behaviour of both.
/// </summary>
public sealed class SubscriberStoreContractTests
{
    static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    static readonly ConsentContext Web = new(ConsentSource.Form, "203.0.113.9", "Mozilla/5.0 (test)", "consent-v2");

    /// <summary>The app's store for its engine, on a clock the test moves.</summary>
    static ISubscriberStore StoreOf(TestApp app, StorageProvider engine, TimeProvider time) =>
        engine == StorageProvider.Postgres
            ? ActivatorUtilities.CreateInstance<PgSubscriberStore>(app.App.Services, time)
            : ActivatorUtilities.CreateInstance<SqliteSubscriberStore>(app.App.Services, time);

    /// <summary>
    /// Topics by id: both schemas seed the taxonomy in the same order, so ids 1 to 36 are the same topics. (The
    /// topic catalogue, which turns names into ids, belongs to the content feature and is not under test here.)
    /// </summary>
    static TopicSelection Topics(params long[] ids) => TopicSelection.Of(ids);

    static IEnumerable<(string Event, string Source)> Ledger(IEnumerable<ConsentRecord> events) => events.Select(e => (e.Event, e.Source));

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task The_app_registers_the_store_of_its_engine(StorageProvider engine)
    {
        await using var app = await Engines.CreateAppAsync(engine);

        Assert.IsType(engine == StorageProvider.Postgres ? typeof(PgSubscriberStore) : typeof(SqliteSubscriberStore), app.Get<ISubscriberStore>());
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Add_update_pause_resume_unsubscribe_and_bounce_each_append_their_consent_event(StorageProvider engine)
    {
        await using var app = await Engines.CreateAppAsync(engine);
        var time = new FakeTimeProvider(Start);
        var store = StoreOf(app, engine, time);

        var added = await store.AddAsync(new NewSubscriber("  Ann@Example.ORG ", " Ann Lee ", Topics(14, 33)), ConsentContext.Admin);
        Assert.Equal(("Ann@example.org", "Ann Lee", SubscriberStatus.Confirmed, Start, Start), (added.Email, added.Name, added.Status, added.CreatedAt, added.ConfirmedAt));
        Assert.Equal([14L, 33L], added.TopicIds);
        Assert.False(added.AllTopics);

        time.Advance(TimeSpan.FromMinutes(1));
        var updated = await store.UpdatePreferencesAsync(added.Id, "Ann", TopicSelection.All, Web);
        Assert.Equal(("Ann", true), (updated!.Name, updated.AllTopics));
        // Nothing changed: nothing recorded.
        await store.UpdatePreferencesAsync(added.Id, "Ann", TopicSelection.All, Web);
        Assert.Equal(SubscriberStatus.Paused, (await store.PauseAsync(added.Id, Web))!.Status);
        Assert.Equal(SubscriberStatus.Confirmed, (await store.ResumeAsync(added.Id, Web))!.Status);
        var changed = await store.UpdateAsync(added.Id, new SubscriberChange("Ann B", Topics(33), SubscriberStatus.Paused), ConsentContext.Admin);
        Assert.Equal(("Ann B", SubscriberStatus.Paused, 1), (changed!.Name, changed.Status, changed.TopicIds.Count));
        Assert.Equal(SubscriberStatus.Unsubscribed, (await store.UnsubscribeAsync(added.Id, new ConsentContext(ConsentSource.OneClick)))!.Status);
        // An unsubscribed address stays unsubscribed when it bounces, and a refused move changes nothing.
        Assert.Equal(SubscriberStatus.Unsubscribed, (await store.MarkBouncedAsync(added.Id, new ConsentContext(ConsentSource.Bounce), "550 5.1.1"))!.Status);
        await Assert.ThrowsAsync<UsageException>(() => store.PauseAsync(added.Id, Web));

        var events = await store.ConsentEventsAsync(added.Id);
        Assert.Equal(
            [
                (ConsentEvent.Confirmed, ConsentSource.Admin),
                (ConsentEvent.PreferencesChanged, ConsentSource.Form),
                (ConsentEvent.Paused, ConsentSource.Form),
                (ConsentEvent.Resumed, ConsentSource.Form),
                (ConsentEvent.PreferencesChanged, ConsentSource.Admin),
                (ConsentEvent.Paused, ConsentSource.Admin),
                (ConsentEvent.Unsubscribed, ConsentSource.OneClick),
            ],
            Ledger(events));
        Assert.Equal(Start, events[0].OccurredAt);
        Assert.Equal(Start.AddMinutes(1), events[1].OccurredAt);
        Assert.Equal(("203.0.113.9", "Mozilla/5.0 (test)", "consent-v2"), (events[1].Ip, events[1].UserAgent, events[1].ConsentVersion));
        Assert.Equal("changed: name, topics; topics: all", events[1].Detail);
        Assert.Null(await store.PauseAsync(999_999, Web));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task A_bounce_stops_a_confirmed_subscriber_and_records_the_reply(StorageProvider engine)
    {
        await using var app = await Engines.CreateAppAsync(engine);
        var store = StoreOf(app, engine, new FakeTimeProvider(Start));
        var id = (await store.AddAsync(new NewSubscriber("bo@example.org", "", TopicSelection.All), ConsentContext.Admin)).Id;

        Assert.Equal(SubscriberStatus.Bounced, (await store.MarkBouncedAsync(id, new ConsentContext(ConsentSource.Bounce), "550 5.1.1 no such user"))!.Status);

        var last = (await store.ConsentEventsAsync(id))[^1];
        Assert.Equal((ConsentEvent.Bounced, ConsentSource.Bounce, "550 5.1.1 no such user"), (last.Event, last.Source, last.Detail));
        Assert.Single(await store.ListAsync(new SubscriberFilter(Status: SubscriberStatus.Bounced)) is var page ? page.Items : []);
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task The_web_form_and_its_confirmation_token_confirm_once_and_a_token_expires(StorageProvider engine)
    {
        await using var app = await Engines.CreateAppAsync(engine);
        var time = new FakeTimeProvider(Start);
        var store = StoreOf(app, engine, time);
        var tokens = new ConfirmationTokens(store, time);

        var created = await store.SubscribeAsync("new@example.org", "New", Topics(14), Web);
        Assert.Equal((SubscribeOutcome.Created, SubscriberStatus.Pending, null), (created.Outcome, created.Subscriber.Status, created.Subscriber.ConfirmedAt));
        var again = await store.SubscribeAsync("NEW@example.org", "Newer", TopicSelection.All, Web);
        Assert.Equal((SubscribeOutcome.Refreshed, "Newer", true, created.Subscriber.Id), (again.Outcome, again.Subscriber.Name, again.Subscriber.AllTopics, again.Subscriber.Id));

        var issued = (await tokens.IssueAsync(created.Subscriber.Id))!;
        Assert.Equal(ConfirmationStatus.Valid, await tokens.CheckAsync(issued.Token));
        time.Advance(TimeSpan.FromMinutes(5));
        var redeemed = await tokens.RedeemAsync(issued.Token, Web);
        Assert.Equal((ConfirmationStatus.Valid, SubscriberStatus.Confirmed, Start.AddMinutes(5)), (redeemed.Status, redeemed.Subscriber!.Status, redeemed.Subscriber.ConfirmedAt));
        Assert.Equal(ConfirmationStatus.Used, (await tokens.RedeemAsync(issued.Token, Web)).Status);
        Assert.Equal(ConfirmationStatus.Unknown, await tokens.CheckAsync(new string('A', issued.Token.Length)));
        Assert.Equal(SubscribeOutcome.AlreadySubscribed, (await store.SubscribeAsync("new@example.org", "", TopicSelection.All, Web)).Outcome);
        Assert.Equal(
            [(ConsentEvent.Subscribed, ConsentSource.Form), (ConsentEvent.Subscribed, ConsentSource.Form), (ConsentEvent.Confirmed, ConsentSource.Form)],
            Ledger(await store.ConsentEventsAsync(created.Subscriber.Id)));

        var late = (await store.SubscribeAsync("late@example.org", "", TopicSelection.All, Web)).Subscriber;
        var lateToken = (await tokens.IssueAsync(late.Id))!;
        time.Advance(ConfirmationTokens.Lifetime);
        Assert.Equal(ConfirmationStatus.Expired, (await tokens.RedeemAsync(lateToken.Token, Web)).Status);
        Assert.Equal(SubscriberStatus.Pending, (await store.GetAsync(late.Id))!.Status);
        Assert.Null(await tokens.IssueAsync(999_999));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Erasure_suppresses_the_address_anonymises_the_ledger_and_only_a_confirmation_lifts_it(StorageProvider engine)
    {
        await using var app = await Engines.CreateAppAsync(engine);
        var time = new FakeTimeProvider(Start);
        var store = StoreOf(app, engine, time);
        var id = (await store.SubscribeAsync("er@example.org", "Er", TopicSelection.All, Web)).Subscriber.Id;

        Assert.True(await store.EraseAsync(id, Web));

        Assert.Null(await store.GetAsync(id));
        Assert.Null(await store.ExportPersonalDataAsync(id));
        Assert.Empty(await store.ConsentEventsAsync(id));
        Assert.True(await store.IsSuppressedAsync(" ER@example.org "));
        Assert.Contains(SubscriberStore.SuppressionHash("er@example.org"), await store.SuppressionHashesAsync());
        Assert.False(await store.EraseAsync(id, Web));
        var refused = await Assert.ThrowsAsync<UsageException>(() => store.AddAsync(new NewSubscriber("er@example.org", "", TopicSelection.All), ConsentContext.Admin));
        Assert.Contains("only subscribe again itself", refused.Message);

        var back = (await store.SubscribeAsync("er@example.org", "", TopicSelection.All, Web)).Subscriber;
        Assert.True(await store.IsSuppressedAsync("er@example.org"));
        var tokens = new ConfirmationTokens(store, time);
        await tokens.RedeemAsync((await tokens.IssueAsync(back.Id))!.Token, Web);
        Assert.False(await store.IsSuppressedAsync("er@example.org"));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task A_delete_suppresses_only_an_address_that_had_withdrawn_its_consent(StorageProvider engine)
    {
        await using var app = await Engines.CreateAppAsync(engine);
        var store = StoreOf(app, engine, new FakeTimeProvider(Start));
        var confirmed = (await store.AddAsync(new NewSubscriber("stay@example.org", "", TopicSelection.All), ConsentContext.Admin)).Id;
        var unsubscribed = (await store.AddAsync(new NewSubscriber("gone@example.org", "", TopicSelection.All), ConsentContext.Admin)).Id;
        var complained = (await store.AddAsync(new NewSubscriber("spam@example.org", "", TopicSelection.All), ConsentContext.Admin)).Id;
        await store.UnsubscribeAsync(unsubscribed, Web);
        await store.UnsubscribeAfterComplaintAsync(complained, new ConsentContext(ConsentSource.Complaint), "abuse report");

        Assert.True(await store.DeleteAsync(confirmed, ConsentContext.Admin));
        Assert.True(await store.DeleteAsync(unsubscribed, ConsentContext.Admin));

        Assert.False(await store.IsSuppressedAsync("stay@example.org"));
        Assert.True(await store.IsSuppressedAsync("gone@example.org"));
        Assert.True(await store.IsSuppressedAsync("spam@example.org"));
        Assert.Equal(SubscriberStatus.Unsubscribed, (await store.GetAsync(complained))!.Status);
        await store.AddAsync(new NewSubscriber("stay@example.org", "", TopicSelection.All), ConsentContext.Admin);
        await Assert.ThrowsAsync<UsageException>(() => store.AddAsync(new NewSubscriber("gone@example.org", "", TopicSelection.All), ConsentContext.Admin));
        Assert.Equal(2, await store.CountAsync());
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task The_id_of_the_newest_subscriber_is_never_given_again_after_a_delete_and_its_links_open_nothing(StorageProvider engine)
    {
        await using var app = await Engines.CreateAppAsync(engine);
        var store = app.Get<ISubscriberStore>();
        await store.AddAsync(new NewSubscriber("first@example.org", "", TopicSelection.All), ConsentContext.Admin);
        var newest = await store.AddAsync(new NewSubscriber("newest@example.org", "", TopicSelection.All), ConsentContext.Admin);
        var link = app.Get<LinkTokens>().Create(newest.Id, LinkPurpose.Preferences);
        Assert.Equal(newest.Id, await app.Get<SubscriberLinks>().ResolveAsync(link, LinkPurpose.Preferences));

        await store.EraseAsync(newest.Id, ConsentContext.Admin);
        var next = await store.AddAsync(new NewSubscriber("next@example.org", "", TopicSelection.All), ConsentContext.Admin);
        var imported = await app.Get<SubscriberCsv>().ImportAsync(Csv("email,name,topics", "csv@example.org,,all"), "more.csv", ConsentContext.Csv);

        Assert.True(next.Id > newest.Id, $"id {next.Id} was given after {newest.Id} was deleted");
        Assert.Equal(1, imported.Added);
        Assert.True((await store.FindByEmailAsync("csv@example.org"))!.Id > next.Id);
        Assert.Null(await app.Get<SubscriberLinks>().ResolveAsync(link, LinkPurpose.Preferences));
        Assert.False(await store.AcceptsLegacyLinksAsync(next.Id));
    }

    static MemoryStream Csv(params string[] lines) => new(Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n"));

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task A_csv_import_counts_added_updated_and_unchanged_and_a_bad_file_writes_nothing(StorageProvider engine)
    {
        await using var app = await Engines.CreateAppAsync(engine);
        var store = app.Get<ISubscriberStore>();
        var csv = app.Get<SubscriberCsv>();

        var first = await csv.ImportAsync(Csv("email,name,topics,status",
            "a@example.org,A,all,",
            "b@example.org,B,all,paused",
            "c@example.org,C,all,pending"), "first.csv", ConsentContext.Csv);
        Assert.Equal(new ImportCounts(3, 0, 0), first);
        Assert.Equal(SubscriberStatus.Paused, (await store.FindByEmailAsync("b@example.org"))!.Status);
        Assert.Equal([(ConsentEvent.Subscribed, ConsentSource.Csv)], Ledger(await store.ConsentEventsAsync((await store.FindByEmailAsync("c@example.org"))!.Id)));

        var second = await csv.ImportAsync(Csv("email,name,topics",
            "A@example.org,A,all",
            "b@example.org,Bee,all",
            "d@example.org,D,all"), "second.csv", ConsentContext.Csv);
        Assert.Equal(new ImportCounts(1, 1, 1), second);
        var b = (await store.FindByEmailAsync("b@example.org"))!;
        Assert.Equal(("Bee", SubscriberStatus.Paused), (b.Name, b.Status));
        Assert.Equal((ConsentEvent.PreferencesChanged, "changed: name; topics: all"), ((await store.ConsentEventsAsync(b.Id))[^1].Event, (await store.ConsentEventsAsync(b.Id))[^1].Detail));

        await store.EraseAsync(b.Id, ConsentContext.Admin);
        var refused = await Assert.ThrowsAsync<UsageException>(() => csv.ImportAsync(Csv("email,name,topics",
            "e@example.org,E,all", "b@example.org,B,all"), "third.csv", ConsentContext.Csv));
        Assert.Contains("line 3", refused.Message);
        Assert.Null(await store.FindByEmailAsync("e@example.org"));
        Assert.Equal(3, await store.CountAsync());
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task A_large_import_is_written_in_one_go_with_every_topic_and_event(StorageProvider engine)
    {
        const int Count = 5000;
        await using var app = await Engines.CreateAppAsync(engine);
        var store = app.Get<ISubscriberStore>();
        var lines = Enumerable.Range(0, Count).Select(i => $"p{i}@example.org,Person {i},all");

        var counts = await app.Get<SubscriberCsv>().ImportAsync(Csv(["email,name,topics", .. lines]), "big.csv", ConsentContext.Csv);

        Assert.Equal(new ImportCounts(Count, 0, 0), counts);
        var all = await store.StreamAllAsync().ToListAsync();
        Assert.Equal(Count, all.Count);
        Assert.All(all, s => Assert.True(s.AllTopics));
        Assert.Equal("Person 4321", all[4321].Name);
        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"p{i}@example.org"), all.Select(s => s.Email));
        Assert.Equal([(ConsentEvent.Confirmed, ConsentSource.Csv)], Ledger(await store.ConsentEventsAsync(all[^1].Id)));
        var export = new StringWriter();
        Assert.Equal(Count, await app.Get<SubscriberCsv>().ExportAsync(export));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Lists_page_count_and_stream_by_status_and_by_address_or_name_in_any_case(StorageProvider engine)
    {
        await using var app = await Engines.CreateAppAsync(engine);
        var store = app.Get<ISubscriberStore>();
        for (var i = 0; i < 12; i++)
        {
            var s = await store.AddAsync(new NewSubscriber($"user{i:00}@Example.org", i % 3 == 0 ? $"Zoë {i}" : $"Name {i}", TopicSelection.All), ConsentContext.Admin);
            if (i % 4 == 0)
            {
                await store.PauseAsync(s.Id, ConsentContext.Admin);
            }
        }

        var page = await store.ListAsync(new SubscriberFilter(), offset: 5, limit: 4);
        Assert.Equal((12, 5, 4), (page.Total, page.Offset, page.Limit));
        Assert.Equal(["user05@example.org", "user06@example.org", "user07@example.org", "user08@example.org"], page.Items.Select(s => s.Email));
        Assert.Equal(3, (await store.ListAsync(new SubscriberFilter(Status: SubscriberStatus.Paused))).Total);
        Assert.Equal(4, await store.CountAsync(new SubscriberFilter(Search: " zoË ")));
        Assert.Equal(1, await store.CountAsync(new SubscriberFilter(Search: "USER11")));
        Assert.Equal(["user00@example.org"], (await store.ListAsync(new SubscriberFilter("zoë", SubscriberStatus.Paused), limit: 1)).Items.Select(s => s.Email).Take(1));
        Assert.Equal(1, (await store.ListAsync(new SubscriberFilter("zoë", SubscriberStatus.Paused))).Total);
        Assert.Equal(["user01@example.org", "user10@example.org", "user11@example.org"],
            await store.StreamAllAsync(new SubscriberFilter("1")).Select(s => s.Email).ToListAsync());
        Assert.Empty(await store.StreamAllAsync(new SubscriberFilter("nobody")).ToListAsync());
        Assert.Equal(0, (await store.ListAsync(new SubscriberFilter("nobody"))).Total);
        await Assert.ThrowsAsync<UsageException>(() => store.ListAsync(new SubscriberFilter(Status: "gone")));
        await Assert.ThrowsAsync<UsageException>(() => store.ListAsync(new SubscriberFilter(), limit: SubscriberStore.MaxPageSize + 1));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Personal_data_holds_the_subscriber_topics_and_consent_events(StorageProvider engine)
    {
        await using var app = await Engines.CreateAppAsync(engine);
        var store = StoreOf(app, engine, new FakeTimeProvider(Start));
        var id = (await store.AddAsync(new NewSubscriber("pd@example.org", "Pat", TopicSelection.All), ConsentContext.Admin)).Id;
        await store.PauseAsync(id, Web);

        var data = (await store.ExportPersonalDataAsync(id))!;

        Assert.Equal(("pd@example.org", "Pat", SubscriberStatus.Paused, true, Start, Start), (data.Email, data.Name, data.Status, data.AllTopics, data.CreatedAt, data.ConfirmedAt));
        Assert.Empty(data.Topics);
        Assert.Equal([(ConsentEvent.Confirmed, ConsentSource.Admin), (ConsentEvent.Paused, ConsentSource.Form)], Ledger(data.ConsentEvents));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Concurrent_unsubscribes_of_one_subscriber_record_one_event(StorageProvider engine)
    {
        await using var app = await Engines.CreateAppAsync(engine);
        var store = app.Get<ISubscriberStore>();
        var id = (await store.AddAsync(new NewSubscriber("race@example.org", "", TopicSelection.All), ConsentContext.Admin)).Id;

        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => store.UnsubscribeAsync(id, Web))));

        Assert.Single(await store.ConsentEventsAsync(id), e => e.Event == ConsentEvent.Unsubscribed);
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Concurrent_subscriptions_of_one_new_address_create_it_once_and_refresh_it_for_the_rest(StorageProvider engine)
    {
        await using var app = await Engines.CreateAppAsync(engine);
        var store = app.Get<ISubscriberStore>();

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => store.SubscribeAsync("twice@example.org", "", TopicSelection.All, Web))));

        Assert.Single(results, r => r.Outcome == SubscribeOutcome.Created);
        Assert.All(results, r => Assert.Equal(results[0].Subscriber.Id, r.Subscriber.Id));
        Assert.Equal(1, await store.CountAsync());
    }
}
