using Dapper;
using Microsoft.Extensions.Time.Testing;
using PprnetNewsletter.Content;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Subscribers;

public class SubscriberStoreTests
{
    static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    static readonly ConsentContext Web = new(ConsentSource.Form, "203.0.113.9", "Mozilla/5.0 (test)", "consent-v2");

    /// <summary>A subscriber's values, comparable (the record holds its topic list by reference).</summary>
    static object Values(Subscriber? s) => (s!.Id, s.Email, s.Name, s.Status, s.Topics, s.CreatedAt, s.ConfirmedAt);

    static ISubscriberStore StoreOf(TestApp test, TimeProvider time) => new SqliteSubscriberStore(test.Get<Db>(), test.Get<TopicCatalog>(), time);

    static async Task<TopicSelection> TopicsAsync(TestApp test, params string[] slugs)
    {
        var catalog = test.Get<TopicCatalog>();
        var ids = new List<long>();
        foreach (var slug in slugs)
        {
            ids.Add((await catalog.FindAsync(slug))!.Id);
        }
        return TopicSelection.Of(ids);
    }

    [Fact]
    public async Task An_added_subscriber_is_confirmed_normalised_and_has_a_consent_event_from_its_source()
    {
        await using var test = await TestApp.CreateAsync();
        var time = new FakeTimeProvider(Start);
        var store = StoreOf(test, time);

        var added = await store.AddAsync(new NewSubscriber("  Ann@Example.ORG ", " Ann Lee ", await TopicsAsync(test, "empathy", "training")), ConsentContext.Admin);

        Assert.Equal("Ann@example.org", added.Email);
        Assert.Equal("Ann Lee", added.Name);
        Assert.Equal(SubscriberStatus.Confirmed, added.Status);
        Assert.Equal(Start, added.ConfirmedAt);
        Assert.Equal(2, added.TopicIds.Count);
        var consent = Assert.Single(await store.ConsentEventsAsync(added.Id));
        Assert.Equal((ConsentEvent.Confirmed, ConsentSource.Admin, Start), (consent.Event, consent.Source, consent.OccurredAt));
    }

    [Fact]
    public async Task Addresses_are_unique_whatever_their_case()
    {
        await using var test = await TestApp.CreateAsync();
        var store = StoreOf(test, TimeProvider.System);
        await store.AddAsync(new NewSubscriber("A@Example.org", "", TopicSelection.All), ConsentContext.Admin);

        var error = await Assert.ThrowsAsync<UsageException>(() =>
            store.AddAsync(new NewSubscriber("a@example.org", "", TopicSelection.All), ConsentContext.Admin));

        Assert.Contains("already a subscriber", error.Message);
        Assert.Equal(1, await store.CountAsync());
        Assert.NotNull(await store.FindByEmailAsync("A@EXAMPLE.ORG"));
    }

    [Fact]
    public async Task Bad_input_is_refused_and_nothing_is_stored()
    {
        await using var test = await TestApp.CreateAsync();
        var store = StoreOf(test, TimeProvider.System);

        await Assert.ThrowsAsync<UsageException>(() => store.AddAsync(new NewSubscriber("\"Evil\" <a@b.org>", "", TopicSelection.All), ConsentContext.Admin));
        await Assert.ThrowsAsync<UsageException>(() => store.AddAsync(new NewSubscriber("a@b.org", "Ann\r\nBcc: x@y.org", TopicSelection.All), ConsentContext.Admin));
        await Assert.ThrowsAsync<UsageException>(() => store.AddAsync(new NewSubscriber("a@b.org", "", TopicSelection.Of([])), ConsentContext.Admin));
        await Assert.ThrowsAsync<UsageException>(() => store.SubscribeAsync("a@localhost", "", TopicSelection.All, Web));

        Assert.Equal(0, await store.CountAsync());
    }

    [Fact]
    public async Task The_web_form_creates_a_pending_subscriber_refreshes_it_and_leaves_a_confirmed_one_alone()
    {
        await using var test = await TestApp.CreateAsync();
        var time = new FakeTimeProvider(Start);
        var store = StoreOf(test, time);

        var first = await store.SubscribeAsync("ann@example.org", "Ann", await TopicsAsync(test, "empathy"), Web);
        time.Advance(TimeSpan.FromMinutes(5));
        var again = await store.SubscribeAsync("ANN@example.org", "Ann Lee", TopicSelection.All, Web);

        Assert.Equal(SubscribeOutcome.Created, first.Outcome);
        Assert.True(first.NeedsConfirmation);
        Assert.Equal(SubscriberStatus.Pending, first.Subscriber.Status);
        Assert.Null(first.Subscriber.ConfirmedAt);
        Assert.Equal(SubscribeOutcome.Refreshed, again.Outcome);
        Assert.Equal(first.Subscriber.Id, again.Subscriber.Id);
        Assert.Equal("Ann Lee", again.Subscriber.Name);
        Assert.True(again.Subscriber.AllTopics);

        var confirmed = await store.AddAsync(new NewSubscriber("bob@example.org", "Bob", TopicSelection.All), ConsentContext.Admin);
        var third = await store.SubscribeAsync("bob@example.org", "Mallory", await TopicsAsync(test, "empathy"), Web);
        Assert.Equal(SubscribeOutcome.AlreadySubscribed, third.Outcome);
        Assert.False(third.NeedsConfirmation);
        Assert.Equal(Values(confirmed), Values(await store.GetAsync(confirmed.Id)));

        var events = await store.ConsentEventsAsync(first.Subscriber.Id);
        Assert.All(events, e => Assert.Equal((ConsentEvent.Subscribed, "203.0.113.9", "Mozilla/5.0 (test)", "consent-v2"),
            (e.Event, e.Ip, e.UserAgent, e.ConsentVersion)));
        Assert.Equal([Start, Start.AddMinutes(5)], events.Select(e => e.OccurredAt));
    }

    [Fact]
    public async Task Every_lifecycle_change_appends_its_consent_event_with_its_source()
    {
        await using var test = await TestApp.CreateAsync();
        var time = new FakeTimeProvider(Start);
        var store = StoreOf(test, time);
        var preferences = new ConsentContext(ConsentSource.Preferences, "198.51.100.1", "Browser");
        var id = (await store.AddAsync(new NewSubscriber("ann@example.org", "Ann", TopicSelection.All), ConsentContext.Admin)).Id;

        var renamed = await store.UpdatePreferencesAsync(id, "Ann Lee", await TopicsAsync(test, "empathy"), preferences);
        var unchanged = await store.UpdatePreferencesAsync(id, "Ann Lee", null, preferences);
        var paused = await store.PauseAsync(id, preferences);
        var pausedAgain = await store.PauseAsync(id, preferences);
        var resumed = await store.ResumeAsync(id, preferences);
        var bounced = await store.MarkBouncedAsync(id, new ConsentContext(ConsentSource.Bounce), "550 5.1.1 mailbox unknown");
        var unsubscribed = await store.UnsubscribeAsync(id, new ConsentContext(ConsentSource.OneClick, "192.0.2.7"));
        var again = await store.UnsubscribeAsync(id, ConsentContext.Admin);

        Assert.Equal(("Ann Lee", false), (renamed!.Name, renamed.AllTopics));
        Assert.Equal(Values(renamed), Values(unchanged));
        Assert.Equal(SubscriberStatus.Paused, paused!.Status);
        Assert.Equal(Values(paused), Values(pausedAgain));
        Assert.Equal(SubscriberStatus.Confirmed, resumed!.Status);
        Assert.Equal(SubscriberStatus.Bounced, bounced!.Status);
        Assert.Equal(SubscriberStatus.Unsubscribed, unsubscribed!.Status);
        Assert.Equal(Values(unsubscribed), Values(again));

        var events = await store.ConsentEventsAsync(id);
        Assert.Equal(
            [
                (ConsentEvent.Confirmed, ConsentSource.Admin),
                (ConsentEvent.PreferencesChanged, ConsentSource.Preferences),
                (ConsentEvent.Paused, ConsentSource.Preferences),
                (ConsentEvent.Resumed, ConsentSource.Preferences),
                (ConsentEvent.Bounced, ConsentSource.Bounce),
                (ConsentEvent.Unsubscribed, ConsentSource.OneClick),
            ],
            events.Select(e => (e.Event, e.Source)));
        Assert.Equal("550 5.1.1 mailbox unknown", events[4].Detail);
        Assert.Equal("192.0.2.7", events[5].Ip);
    }

    [Fact]
    public async Task A_change_the_status_does_not_allow_is_refused_and_an_unknown_id_gives_null()
    {
        await using var test = await TestApp.CreateAsync();
        var store = StoreOf(test, TimeProvider.System);
        var pending = (await store.SubscribeAsync("ann@example.org", "", TopicSelection.All, Web)).Subscriber;

        var error = await Assert.ThrowsAsync<UsageException>(() => store.PauseAsync(pending.Id, Web));

        Assert.Contains("pending", error.Message);
        Assert.Equal(SubscriberStatus.Pending, (await store.GetAsync(pending.Id))!.Status);
        Assert.Null(await store.PauseAsync(9999, Web));
        Assert.Null(await store.UpdatePreferencesAsync(9999, "x", null, Web));
        Assert.False(await store.EraseAsync(9999, Web));
    }

    [Fact]
    public void A_consent_source_the_ledger_does_not_know_is_a_programming_error()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConsentContext("website"));
        Assert.Equal(ConsentSource.OneClick, new ConsentContext(ConsentSource.OneClick).Source);
    }

    [Fact]
    public async Task A_bounce_after_an_unsubscribe_leaves_the_subscriber_unsubscribed_without_an_event()
    {
        await using var test = await TestApp.CreateAsync();
        var store = StoreOf(test, TimeProvider.System);
        var id = (await store.AddAsync(new NewSubscriber("ann@example.org", "", TopicSelection.All), ConsentContext.Admin)).Id;
        await store.UnsubscribeAsync(id, Web);

        var after = await store.MarkBouncedAsync(id, new ConsentContext(ConsentSource.Bounce), "550 no such user");

        Assert.Equal(SubscriberStatus.Unsubscribed, after!.Status);
        Assert.Equal(2, (await store.ConsentEventsAsync(id)).Count);
    }

    [Fact]
    public async Task Erasure_leaves_only_a_suppression_hash_and_anonymised_events()
    {
        await using var test = await TestApp.CreateAsync();
        var store = StoreOf(test, new FakeTimeProvider(Start));
        var id = (await store.SubscribeAsync("Ann@Example.org", "Ann Lee", await TopicsAsync(test, "empathy"), Web)).Subscriber.Id;
        await new ConfirmationTokens(store, TimeProvider.System).IssueAsync(id);
        await store.UnsubscribeAsync(id, Web);

        Assert.True(await store.EraseAsync(id, new ConsentContext(ConsentSource.Preferences, "203.0.113.9", "Browser")));

        Assert.Null(await store.GetAsync(id));
        Assert.True(await store.IsSuppressedAsync("ann@example.org"));
        await using var connection = await test.Get<Db>().OpenAsync();
        var everything = string.Join("\n", (await connection.QueryAsync<string>("""
            SELECT coalesce(subscriber_id, '') || '|' || event || '|' || source || '|' || coalesce(ip, '') || '|' ||
                   coalesce(user_agent, '') || '|' || coalesce(consent_version, '') || '|' || coalesce(detail, '')
            FROM consent_events ORDER BY id
            """)));
        Assert.DoesNotContain("203.0.113.9", everything);
        Assert.DoesNotContain("Browser", everything);
        Assert.DoesNotContain("Mozilla", everything);
        Assert.DoesNotContain("ann", everything, StringComparison.OrdinalIgnoreCase);
        var lines = everything.Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("|erased|preferences||||", lines[^1]);
        Assert.All(lines, line => Assert.StartsWith("|", line));
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM subscriber_topics"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM confirmation_tokens"));
        var hash = Assert.Single(await connection.QueryAsync<string>("SELECT email_hash FROM suppressions"));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("ann@example.org"u8)), hash);
    }

    [Fact]
    public async Task An_erased_address_cannot_be_added_again_by_an_administrator_but_can_subscribe_and_confirm_itself()
    {
        await using var test = await TestApp.CreateAsync();
        var store = StoreOf(test, TimeProvider.System);
        var tokens = new ConfirmationTokens(store, TimeProvider.System);
        var id = (await store.AddAsync(new NewSubscriber("ann@example.org", "", TopicSelection.All), ConsentContext.Admin)).Id;
        await store.EraseAsync(id, ConsentContext.Admin);

        var error = await Assert.ThrowsAsync<UsageException>(() =>
            store.AddAsync(new NewSubscriber("ANN@example.org", "", TopicSelection.All), ConsentContext.Admin));
        Assert.Contains("erased", error.Message);

        var pending = await store.SubscribeAsync("ann@example.org", "Ann", TopicSelection.All, Web);
        Assert.True(await store.IsSuppressedAsync("ann@example.org"));
        var issued = await tokens.IssueAsync(pending.Subscriber.Id);
        var confirmed = await tokens.RedeemAsync(issued!.Token, Web);

        Assert.Equal(SubscriberStatus.Confirmed, confirmed.Subscriber!.Status);
        Assert.False(await store.IsSuppressedAsync("ann@example.org"));
    }

    [Fact]
    public async Task An_administrators_delete_keeps_no_suppression()
    {
        await using var test = await TestApp.CreateAsync();
        var store = StoreOf(test, TimeProvider.System);
        var id = (await store.AddAsync(new NewSubscriber("ann@example.org", "", TopicSelection.All), ConsentContext.Admin)).Id;

        Assert.True(await store.DeleteAsync(id, ConsentContext.Admin));

        Assert.Null(await store.GetAsync(id));
        Assert.False(await store.IsSuppressedAsync("ann@example.org"));
        await store.AddAsync(new NewSubscriber("ann@example.org", "", TopicSelection.All), ConsentContext.Admin);
    }

    [Fact]
    public async Task Lists_page_search_by_address_or_name_and_filter_by_status()
    {
        await using var test = await TestApp.CreateAsync();
        var store = StoreOf(test, TimeProvider.System);
        for (var i = 1; i <= 25; i++)
        {
            await store.AddAsync(new NewSubscriber($"user{i:D2}@example.org", i % 5 == 0 ? $"Dr Five {i}" : "", TopicSelection.All), ConsentContext.Admin);
        }
        await store.SubscribeAsync("pending@clinic.example", "Pat", TopicSelection.All, Web);

        var page = await store.ListAsync(new SubscriberFilter(), offset: 10, limit: 10);
        Assert.Equal(26, page.Total);
        Assert.Equal(Enumerable.Range(11, 10).Select(i => $"user{i:D2}@example.org"), page.Items.Select(s => s.Email));

        var byName = await store.ListAsync(new SubscriberFilter(Search: "five"));
        Assert.Equal(5, byName.Total);
        var byAddress = await store.ListAsync(new SubscriberFilter(Search: "CLINIC"));
        Assert.Equal("pending@clinic.example", Assert.Single(byAddress.Items).Email);
        Assert.Equal(1, await store.CountAsync(new SubscriberFilter(Status: SubscriberStatus.Pending)));
        Assert.Equal(25, await store.CountAsync(new SubscriberFilter(Status: SubscriberStatus.Confirmed)));
        Assert.Equal(0, await store.CountAsync(new SubscriberFilter(Search: "%")));
        await Assert.ThrowsAsync<UsageException>(() => store.ListAsync(new SubscriberFilter(Status: "gone")));
        await Assert.ThrowsAsync<UsageException>(() => store.ListAsync(new SubscriberFilter(), limit: 5000));

        var streamed = new List<string>();
        await foreach (var subscriber in store.StreamAllAsync())
        {
            streamed.Add(subscriber.Email);
        }
        Assert.Equal(26, streamed.Count);
        Assert.Equal("pending@clinic.example", streamed[^1]);
    }

    [Fact]
    public async Task Personal_data_holds_the_subscriber_topics_and_consent_events()
    {
        await using var test = await TestApp.CreateAsync();
        var store = StoreOf(test, new FakeTimeProvider(Start));
        var id = (await store.SubscribeAsync("ann@example.org", "Ann", await TopicsAsync(test, "training", "empathy"), Web)).Subscriber.Id;

        var data = await store.ExportPersonalDataAsync(id);

        Assert.NotNull(data);
        Assert.Equal(("ann@example.org", "Ann", SubscriberStatus.Pending), (data.Email, data.Name, data.Status));
        Assert.Equal(["Empathy", "Training"], data.Topics.Select(t => t.Name));
        var consent = Assert.Single(data.ConsentEvents);
        Assert.Equal(("203.0.113.9", "consent-v2"), (consent.Ip, consent.ConsentVersion));
        Assert.Null(await store.ExportPersonalDataAsync(id + 1));
    }

    [Fact]
    public async Task A_list_or_stream_that_matches_nobody_is_empty()
    {
        await using var test = await TestApp.CreateAsync();
        var store = StoreOf(test, TimeProvider.System);
        var nobody = new SubscriberFilter(Search: "nobody");

        var page = await store.ListAsync(nobody);
        var streamed = new List<Subscriber>();
        await foreach (var subscriber in store.StreamAllAsync(nobody))
        {
            streamed.Add(subscriber);
        }

        Assert.Equal((0, 0), (page.Items.Count, page.Total));
        Assert.Empty(streamed);
    }

    [Fact]
    public async Task An_import_adds_with_each_rows_status_updates_name_and_topics_keeping_status_and_records_each_change()
    {
        await using var test = await TestApp.CreateAsync();
        var time = new FakeTimeProvider(Start);
        var store = StoreOf(test, time);
        var csv = new ConsentContext(ConsentSource.Csv);
        var kept = await store.AddAsync(new NewSubscriber("kept@example.org", "Kept", TopicSelection.All), ConsentContext.Admin);
        var moved = await store.AddAsync(new NewSubscriber("Moved@Example.org", "Moved", await TopicsAsync(test, "empathy", "training")), ConsentContext.Admin);
        await store.PauseAsync(moved.Id, ConsentContext.Admin);
        var renamed = await store.AddAsync(new NewSubscriber("renamed@example.org", "Old", await TopicsAsync(test, "empathy")), ConsentContext.Admin);
        time.Advance(TimeSpan.FromDays(1));
        var attachment = await TopicsAsync(test, "attachment");

        var counts = await store.ImportAsync(
        [
            new NewSubscriber("new@example.org", "New", attachment),
            new NewSubscriber("kept@example.org", "Kept", TopicSelection.All),
            new NewSubscriber("moved@example.org", "Moved", attachment),
            new NewSubscriber("asked@example.org", "", TopicSelection.All, SubscriberStatus.Pending),
            new NewSubscriber("renamed@example.org", "New Name", await TopicsAsync(test, "empathy")),
        ], csv);

        Assert.Equal(new ImportCounts(Added: 2, Updated: 2, Unchanged: 1), counts);
        var added = (await store.FindByEmailAsync("new@example.org"))!;
        Assert.Equal((SubscriberStatus.Confirmed, Start.AddDays(1), attachment), (added.Status, added.ConfirmedAt, added.Topics));
        var asked = (await store.FindByEmailAsync("asked@example.org"))!;
        Assert.Equal((SubscriberStatus.Pending, (DateTimeOffset?)null), (asked.Status, asked.ConfirmedAt));
        Assert.Equal((SubscriberStatus.Paused, attachment), ((await store.GetAsync(moved.Id))!.Status, (await store.GetAsync(moved.Id))!.Topics));
        Assert.Equal(("New Name", SubscriberStatus.Confirmed), ((await store.GetAsync(renamed.Id))!.Name, (await store.GetAsync(renamed.Id))!.Status));

        static object Last(IReadOnlyList<ConsentRecord> events) => (events[^1].Event, events[^1].Source, events[^1].Detail);
        Assert.Equal((ConsentEvent.Confirmed, ConsentSource.Csv, (string?)null), Last(await store.ConsentEventsAsync(added.Id)));
        Assert.Equal((ConsentEvent.Subscribed, ConsentSource.Csv, (string?)null), Last(await store.ConsentEventsAsync(asked.Id)));
        Assert.Equal((ConsentEvent.PreferencesChanged, ConsentSource.Csv, $"changed: topics; topics: {attachment.TopicIds[0]}"),
            Last(await store.ConsentEventsAsync(moved.Id)));
        Assert.Equal((ConsentEvent.PreferencesChanged, ConsentSource.Csv, $"changed: name; topics: {renamed.TopicIds[0]}"),
            Last(await store.ConsentEventsAsync(renamed.Id)));
        Assert.Single(await store.ConsentEventsAsync(kept.Id));
    }

    [Fact]
    public async Task An_import_with_an_address_twice_or_an_erased_address_writes_nothing()
    {
        await using var test = await TestApp.CreateAsync();
        var store = StoreOf(test, TimeProvider.System);
        var erased = await store.AddAsync(new NewSubscriber("erased@example.org", "", TopicSelection.All), ConsentContext.Admin);
        await store.EraseAsync(erased.Id, ConsentContext.Admin);
        var csv = new ConsentContext(ConsentSource.Csv);

        var twice = await Assert.ThrowsAsync<UsageException>(() => store.ImportAsync(
            [new NewSubscriber("ann@example.org", "", TopicSelection.All), new NewSubscriber("ANN@example.org", "", TopicSelection.All)], csv));
        var refused = await Assert.ThrowsAsync<UsageException>(() => store.ImportAsync(
            [new NewSubscriber("ok@example.org", "", TopicSelection.All), new NewSubscriber("Erased@Example.org", "", TopicSelection.All)], csv));

        Assert.Contains("ANN@example.org appears more than once", twice.Message);
        Assert.Contains("Erased@example.org unsubscribed, bounced or asked to be erased", refused.Message);
        Assert.Equal(0, await store.CountAsync());
    }
}
