using System.Globalization;
using Quartz;

namespace PprnetNewsletter.Scheduling;

/// <summary>What the schedule knows of an edition.</summary>
public sealed record EditionState(string Month, string Status, long SummaryCount);

/// <summary>
/// The schedule's verdict at one moment: <see cref="SendMonth"/> to start, or null with the reason why not
/// (<see cref="NeedsAttention"/> when an administrator should act, e.g. an edition with no summaries).
/// </summary>
public sealed record ScheduleDecision(string? SendMonth, string Reason, DateTimeOffset? FiredAt, bool NeedsAttention = false);

/// <summary>
/// "What should be sent now", as a pure function of the time, the cron expression (with its time zone) and the
/// editions' states — the same answer for the monthly trigger and for the catch-up at start-up, so a service that
/// was down at the trigger time sends the edition once when it returns within the month, and never twice.
/// </summary>
public static class EditionSchedule
{
    /// <summary>Schedule:Cron read in Schedule:TimeZone (both validated at start).</summary>
    public static CronExpression CronOf(ScheduleOptions options) =>
        new(options.Cron, TimeZoneInfo.FindSystemTimeZoneById(options.TimeZone));

    /// <summary>The latest time the schedule fired at or before <paramref name="now"/> in the current month of its zone.</summary>
    public static DateTimeOffset? LatestFireThisMonth(DateTimeOffset now, CronExpression cron)
    {
        var zone = cron.TimeZone;
        var local = TimeZoneInfo.ConvertTime(now, zone);
        var monthStart = new DateTime(local.Year, local.Month, 1, 0, 0, 0, DateTimeKind.Unspecified);
        var from = new DateTimeOffset(monthStart, zone.GetUtcOffset(monthStart)).AddSeconds(-1);
        DateTimeOffset? latest = null;
        for (var fire = cron.GetNextValidTimeAfter(from); fire is { } t && t <= now; fire = cron.GetNextValidTimeAfter(t))
        {
            latest = t;
        }
        return latest;
    }

    /// <summary>The edition a fire at <paramref name="firedAt"/> sends: the month that has just ended, in the schedule's zone.</summary>
    public static string MonthFor(DateTimeOffset firedAt, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(firedAt, zone);
        return new DateOnly(local.Year, local.Month, 1).AddMonths(-1).ToString("yyyy-MM", CultureInfo.InvariantCulture);
    }

    /// <summary>The month whose edition is due now, if the schedule has fired this month.</summary>
    public static string? DueMonth(DateTimeOffset now, CronExpression cron) =>
        LatestFireThisMonth(now, cron) is { } fired ? MonthFor(fired, cron.TimeZone) : null;

    public static ScheduleDecision Decide(DateTimeOffset now, CronExpression cron, IReadOnlyCollection<EditionState> editions)
    {
        if (LatestFireThisMonth(now, cron) is not { } fired)
        {
            return new(null, "the schedule has not fired yet this month", null);
        }
        var month = MonthFor(fired, cron.TimeZone);
        var edition = editions.FirstOrDefault(e => e.Month == month);
        if (edition is null || edition.SummaryCount == 0)
        {
            return new(null, $"the {month} edition has no summaries, so it is not sent; import them and run 'digest send {month}'", fired, NeedsAttention: true);
        }
        if (edition.Status != Content.EditionStatus.Draft)
        {
            return new(null, $"the {month} edition is already {edition.Status}", fired);
        }
        return new(month, $"the schedule fired at {fired:u}", fired);
    }
}
