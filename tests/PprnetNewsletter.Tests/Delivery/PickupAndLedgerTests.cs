using Dapper;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Delivery.DeliveryTestData;

namespace PprnetNewsletter.Tests.Delivery;

public class PickupAndLedgerTests
{
    [Fact]
    public async Task On_defaults_a_send_writes_one_eml_per_eligible_subscriber_and_a_second_run_writes_none()
    {
        await using var test = await TestApp.CreateAsync();
        await SeedEditionAsync(test);
        await SeedSubscribersAsync(test, 12);
        await SeedSubscribersAsync(test, 3, "nomatch");
        await SeedSubscribersAsync(test, 2, "pending", "pending");
        bool Matches(Recipient r) => !r.Email.StartsWith("nomatch", StringComparison.Ordinal);

        var first = await test.Sender(matches: Matches).SendAsync(Month);
        var files = Directory.GetFiles(test.OutboxPath, "*.eml");
        var second = await test.Sender(matches: Matches).SendAsync(Month);

        Assert.Equal((12L, 3L), (first.Sent, first.Skipped));
        Assert.Equal(12, files.Length);
        Assert.Equal(0, second.Processed);
        Assert.Equal(12, Directory.GetFiles(test.OutboxPath, "*.eml").Length);
        Assert.Empty(Directory.GetFiles(test.OutboxPath, "*.tmp"));
        Assert.Equal(new Dictionary<string, long> { ["sent"] = 12, ["skipped"] = 3 }, await StatesAsync(test));
    }

    [Fact]
    public async Task A_send_longer_than_one_claimed_batch_tops_the_queue_up_until_everyone_has_their_email()
    {
        // 256 rows per claim: three batches, so the claimer sleeps on the queue and is woken to claim twice more.
        await using var test = await TestApp.CreateAsync();
        await SeedEditionAsync(test);
        await SeedSubscribersAsync(test, 700);

        // A claimer that is never woken would leave the send waiting forever: fail instead.
        var result = await test.Sender().SendAsync(Month).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(700L, result.Sent);
        Assert.Equal(700, Directory.GetFiles(test.OutboxPath, "*.eml").Length);
        Assert.Equal(new Dictionary<string, long> { ["sent"] = 700 }, await StatesAsync(test));
    }

    [Fact]
    public async Task A_dry_run_composes_and_counts_but_sends_and_records_nothing()
    {
        await using var test = await TestApp.CreateAsync();
        await SeedEditionAsync(test);
        await SeedSubscribersAsync(test, 7);

        var dry = await test.Sender(matches: r => r.Email != "reader3@example.org").DryRunAsync(Month);

        Assert.Equal((6L, 1L), (dry.Sent, dry.Skipped));
        Assert.False(Directory.Exists(test.OutboxPath) && Directory.GetFiles(test.OutboxPath).Length > 0);
        Assert.Empty(await StatesAsync(test));
        Assert.Equal("draft", (await test.Sender().StatusAsync(Month)).Status);
    }

    [Fact]
    public async Task Starting_an_edition_enqueues_once_and_a_second_start_adds_nothing()
    {
        await using var test = await TestApp.CreateAsync();
        var edition = await SeedEditionAsync(test);
        await SeedSubscribersAsync(test, 5);
        var ledger = test.Get<IDeliveryStore>();
        var now = DateTimeOffset.UtcNow;

        var first = await ledger.StartAsync(edition, now, skipWithoutMatch: false);
        var second = await ledger.StartAsync(edition, now, skipWithoutMatch: false);
        var again = await ledger.EnqueueConfirmedAfterAsync(edition, DateTimeOffset.MinValue, now, skipWithoutMatch: false);

        Assert.Equal(new Enqueued(5, 0), first);
        Assert.Null(second);
        Assert.Equal(new Enqueued(0, 0), again);
        Assert.Equal(new Dictionary<string, long> { ["pending"] = 5 }, await StatesAsync(test));
    }

    [Fact]
    public async Task A_lease_that_ran_out_is_claimed_by_another_run_but_never_by_the_run_holding_it()
    {
        await using var test = await TestApp.CreateAsync();
        var (ledger, edition, now) = await StartWithSubscribersAsync(test, 3);

        var held = await ledger.ClaimAsync(edition, owner: 1, 2, now, now.AddSeconds(1));
        var later = now.AddSeconds(5);
        var sameRun = await ledger.ClaimAsync(edition, owner: 1, 10, later, later.AddSeconds(1));
        var otherRun = await ledger.ClaimAsync(edition, owner: 2, 10, later, later.AddSeconds(1));

        Assert.Equal(2, held.Count);
        // The same run gets only the row it never had; another run takes over the two whose lease ran out.
        Assert.DoesNotContain(Assert.Single(sameRun).DeliveryId, held.Select(r => r.DeliveryId));
        Assert.Equal(held.Select(r => r.DeliveryId), otherRun.Select(r => r.DeliveryId));
    }

    [Fact]
    public async Task A_group_of_outcomes_that_fails_part_way_commits_none_of_them_and_the_writer_carries_on()
    {
        await using var test = await TestApp.CreateAsync();
        var (ledger, edition, now) = await StartWithSubscribersAsync(test, 3);
        var claimed = await ledger.ClaimAsync(edition, owner: 1, 10, now, now.AddMinutes(5));
        DeliveryOutcome Sent(ClaimedDelivery row) =>
            new(row.DeliveryId, 0, DeliveryState.Sent, now, Reply: "250 2.0.0 Ok", MessageId: $"m{row.DeliveryId}@example.org");

        using var writer = ledger.OpenOutcomeWriter();
        // The second outcome breaks the table's CHECK on states, after the first was written in the same transaction.
        var broken = Sent(claimed[1]) with { State = "lost" };
        Assert.Throws<Microsoft.Data.Sqlite.SqliteException>(() => writer.Record([Sent(claimed[0]), broken]));
        var afterFailure = await StatesAsync(test);
        writer.Record([Sent(claimed[0]), Sent(claimed[1]), Sent(claimed[2])]);

        Assert.Equal(new Dictionary<string, long> { ["sending"] = 3 }, afterFailure);
        Assert.Equal(new Dictionary<string, long> { ["sent"] = 3 }, await StatesAsync(test));
        await using var connection = await test.Get<Db>().OpenAsync();
        Assert.Equal(
            claimed.Select(c => ($"m{c.DeliveryId}@example.org", "250 2.0.0 Ok")).ToList(),
            (await connection.QueryAsync<(string, string)>("SELECT message_id, smtp_reply FROM delivery_attempts ORDER BY delivery_id")).ToList());
    }

    [Fact]
    public async Task The_outcome_writers_commits_reach_the_database_file_behind_it_not_only_its_log()
    {
        await using var test = await TestApp.CreateAsync();
        var (ledger, edition, now) = await StartWithSubscribersAsync(test, 1);
        var row = Assert.Single(await ledger.ClaimAsync(edition, owner: 1, 10, now, now.AddMinutes(5)));
        var messageId = $"{Guid.NewGuid():N}@example.org";

        using var writer = ledger.OpenOutcomeWriter();
        writer.Record([new DeliveryOutcome(row.DeliveryId, 0, DeliveryState.Sent, now, Reply: "250 2.0.0 Ok", MessageId: messageId)]);

        // Left to SQLite, one small commit stays in the write-ahead log (copied once the log holds 1,000 pages, or when
        // the last connection closes) and the commit that crosses that line pays for the copy. The writer's own
        // checkpoint connection copies it within moments, while the writer and the app's connections stay open.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!FileContains(test.DatabasePath, messageId))
        {
            Assert.True(DateTime.UtcNow < deadline, "The outcome is still only in the write-ahead log after 10 s.");
            await Task.Delay(20);
        }
    }

    static bool FileContains(string path, string text)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        file.CopyTo(copy);
        return copy.GetBuffer().AsSpan(0, (int)copy.Length).IndexOf(System.Text.Encoding.UTF8.GetBytes(text)) >= 0;
    }

    [Fact]
    public async Task Sending_a_month_without_an_edition_or_summaries_is_bad_input_that_says_what_to_do()
    {
        await using var test = await TestApp.CreateAsync();
        await SeedEditionAsync(test, "2023-04", summaries: 0);

        var none = await Assert.ThrowsAsync<PprnetNewsletter.Hosting.UsageException>(() => test.Sender().SendAsync("2023-05"));
        var empty = await Assert.ThrowsAsync<PprnetNewsletter.Hosting.UsageException>(() => test.Sender().SendAsync("2023-04"));
        var bad = await Assert.ThrowsAsync<PprnetNewsletter.Hosting.UsageException>(() => test.Sender().SendAsync("March"));

        Assert.Contains("import", none.Message);
        Assert.Contains("no summaries", empty.Message);
        Assert.Contains("YYYY-MM", bad.Message);
    }

    [Fact]
    public async Task A_bad_Smtp_Security_value_stops_start_up_naming_the_values_that_exist()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            TestApp.CreateAsync(new Dictionary<string, string?> { ["Smtp:Security"] = "Tls" }));

        var message = error.Message + " " + error.InnerException?.Message;
        Assert.Contains("Smtp:Security", message);
        Assert.Contains("None, StartTls, SslOnConnect", message);
    }

    [Theory]
    [InlineData("starttls", SmtpSecurity.StartTls)]
    [InlineData("SslOnConnect", SmtpSecurity.SslOnConnect)]
    public async Task Smtp_Security_values_are_read_in_any_case(string value, SmtpSecurity expected)
    {
        await using var test = await TestApp.CreateAsync(new Dictionary<string, string?> { ["Smtp:Security"] = value });

        Assert.Equal(expected, test.Get<Microsoft.Extensions.Options.IOptions<SmtpOptions>>().Value.Security);
    }

    /// <summary>An edition started (its rows enqueued, all pending) for <paramref name="subscribers"/> new subscribers.</summary>
    static async Task<(IDeliveryStore Ledger, long Edition, DateTimeOffset Now)> StartWithSubscribersAsync(TestApp test, int subscribers)
    {
        var edition = await SeedEditionAsync(test);
        await SeedSubscribersAsync(test, subscribers);
        var ledger = test.Get<IDeliveryStore>();
        var now = DateTimeOffset.UtcNow;
        await ledger.StartAsync(edition, now, skipWithoutMatch: false);
        return (ledger, edition, now);
    }
}
