using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Scheduling;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Delivery;
using PprnetNewsletter.Tests.Support;
using Quartz;
using static PprnetNewsletter.Tests.Delivery.DeliveryTestData;

namespace PprnetNewsletter.Tests.Scheduling;

public class EditionScheduleTests
{
    static readonly TimeZoneInfo Toronto = TimeZoneInfo.FindSystemTimeZoneById("America/Toronto");

    static CronExpression Cron(string expression = "0 0 9 1 * ?") => new(expression, Toronto);

    static DateTimeOffset Utc(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    // The 15th: March after daylight saving starts (EDT, UTC-4), November after it ends (EST, UTC-5).
    [InlineData("0 0 9 15 * ?", "2024-03-15T13:00:00Z")]
    [InlineData("0 0 9 15 * ?", "2024-11-15T14:00:00Z")]
    // The default, the 1st: March 1st is still winter time, April 1st summer time, and so on.
    [InlineData("0 0 9 1 * ?", "2024-03-01T14:00:00Z")]
    [InlineData("0 0 9 1 * ?", "2024-04-01T13:00:00Z")]
    [InlineData("0 0 9 1 * ?", "2024-11-01T13:00:00Z")]
    [InlineData("0 0 9 1 * ?", "2024-12-01T14:00:00Z")]
    public void The_schedule_fires_at_nine_in_Toronto_whatever_the_daylight_saving_time(string cron, string expectedUtc)
    {
        var fire = Utc(expectedUtc);
        var month = EditionSchedule.MonthFor(fire, Toronto);
        var draft = new[] { new EditionState(month, EditionStatus.Draft, 2) };

        var before = EditionSchedule.Decide(fire.AddSeconds(-1), Cron(cron), draft);
        var at = EditionSchedule.Decide(fire, Cron(cron), draft);

        Assert.Null(before.SendMonth);
        Assert.Equal(month, at.SendMonth);
        Assert.Equal(fire, at.FiredAt);
        Assert.Equal(9, TimeZoneInfo.ConvertTime(fire, Toronto).Hour);
    }

    [Fact]
    public void The_edition_sent_is_the_month_that_has_just_ended()
    {
        Assert.Equal("2024-02", EditionSchedule.DueMonth(Utc("2024-03-01T14:00:00Z"), Cron()));
        Assert.Equal("2023-12", EditionSchedule.DueMonth(Utc("2024-01-20T00:00:00Z"), Cron()));
        // 23:30 on the 31st of March in Toronto is already April in UTC: the zone's month counts.
        Assert.Equal("2024-02", EditionSchedule.DueMonth(Utc("2024-04-01T03:30:00Z"), Cron()));
    }

    [Fact]
    public void After_downtime_the_due_edition_is_decided_once_and_not_again_once_started()
    {
        var cron = Cron();
        var back = Utc("2023-04-03T15:00:00Z");   // down on the 1st, back on the 3rd

        var draft = EditionSchedule.Decide(back, cron, [new EditionState("2023-03", EditionStatus.Draft, 2)]);
        var sending = EditionSchedule.Decide(back, cron, [new EditionState("2023-03", EditionStatus.Sending, 2)]);
        var sent = EditionSchedule.Decide(back.AddDays(1), cron, [new EditionState("2023-03", EditionStatus.Sent, 2)]);
        var nextMonthBeforeFire = EditionSchedule.Decide(Utc("2023-05-01T12:00:00Z"), cron, [new EditionState("2023-04", EditionStatus.Draft, 2)]);

        Assert.Equal("2023-03", draft.SendMonth);
        Assert.Null(sending.SendMonth);
        Assert.Null(sent.SendMonth);
        Assert.Null(nextMonthBeforeFire.SendMonth);
    }

    [Fact]
    public void An_edition_without_summaries_is_not_sent_and_the_reason_says_so()
    {
        var decision = EditionSchedule.Decide(Utc("2023-04-01T13:00:00Z"), Cron(), [new EditionState("2023-03", EditionStatus.Draft, 0)]);
        var missing = EditionSchedule.Decide(Utc("2023-04-01T13:00:00Z"), Cron(), []);

        Assert.Null(decision.SendMonth);
        Assert.True(decision.NeedsAttention);
        Assert.Contains("no summaries", decision.Reason);
        Assert.True(missing.NeedsAttention);
    }

    [Fact]
    public async Task The_catch_up_after_downtime_sends_the_edition_once_even_with_two_processes_and_never_again()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var first = await TestApp.CreateAsync(Fast(smtp.ClientConfig()));
        var shared = Fast(smtp.ClientConfig());
        shared["Storage:Database"] = first.DatabasePath;
        await using var second = await TestApp.CreateAsync(shared);
        await SeedEditionAsync(first, "2023-03");
        var emails = await SeedSubscribersAsync(first, 25);
        var clock = new FakeTimeProvider(Utc("2023-04-03T15:00:00Z"));   // the trigger on the 1st was missed
        // The schedules decide at the fake time; the engines run on the real clock, because the one that finds the edition
        // held waits for the other in real seconds.
        var firstWorker = await first.StartWorkerAsync(TimeProvider.System);
        var secondWorker = await second.StartWorkerAsync(TimeProvider.System);

        var decisions = await Task.WhenAll(Schedule(first, clock, firstWorker).RunDueAsync(), Schedule(second, clock, secondWorker).RunDueAsync());
        clock.Advance(TimeSpan.FromDays(1));
        var later = await Schedule(second, clock, secondWorker).RunDueAsync();
        await firstWorker.StopAsync(CancellationToken.None);
        await secondWorker.StopAsync(CancellationToken.None);

        Assert.Contains(decisions, d => d.SendMonth == "2023-03");
        Assert.Null(later.SendMonth);
        Assert.Equal(25, smtp.Received.Count);
        Assert.All(emails, e => Assert.Equal(1, smtp.CountByRecipient()[e]));
        Assert.Equal("sent", await ScalarAsync<string>(first, "SELECT status FROM editions WHERE month = '2023-03'"));
    }

    [Fact]
    public async Task An_edition_without_summaries_is_not_sent_by_the_schedule_and_status_says_why()
    {
        await using var test = await TestApp.CreateAsync();
        await SeedEditionAsync(test, "2023-03", summaries: 0);
        await SeedSubscribersAsync(test, 3);
        var clock = new FakeTimeProvider(Utc("2023-04-01T13:00:00Z"));

        var decision = await Schedule(test, clock, ActivatorUtilities.CreateInstance<DeliveryWorker>(test.App.Services, test.Sender(clock), clock)).RunDueAsync();
        var status = await test.Sender(clock).StatusAsync("2023-03");

        Assert.Null(decision.SendMonth);
        Assert.Equal("draft", status.Status);
        Assert.Contains("no summaries", status.Note);
        Assert.Empty(Directory.Exists(test.OutboxPath) ? Directory.GetFiles(test.OutboxPath) : []);
    }

    static ScheduledEditions Schedule(TestApp test, TimeProvider clock, DeliveryWorker worker) =>
        ActivatorUtilities.CreateInstance<ScheduledEditions>(test.App.Services, worker, clock);
}
