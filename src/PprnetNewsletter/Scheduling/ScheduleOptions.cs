using System.ComponentModel.DataAnnotations;

namespace PprnetNewsletter.Scheduling;

public sealed class ScheduleOptions : IValidatableObject
{
    public const string Section = "Schedule";

    /// <summary>Quartz cron expression (seconds first): when the monthly edition goes out.</summary>
    [Required(ErrorMessage = "Schedule:Cron is required, e.g. \"0 0 9 1 * ?\" (09:00 on the 1st)")]
    public string Cron { get; set; } = "0 0 9 1 * ?";

    /// <summary>IANA time zone the cron expression is read in.</summary>
    [Required(ErrorMessage = "Schedule:TimeZone is required, e.g. America/Toronto")]
    public string TimeZone { get; set; } = "America/Toronto";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Quartz.CronExpression.TryParse(Cron, out _))
        {
            yield return new ValidationResult(
                $"Schedule:Cron \"{Cron}\" is not a valid Quartz cron expression (seconds minutes hours day-of-month month day-of-week), e.g. \"0 0 9 1 * ?\"",
                [nameof(Cron)]);
        }
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out _))
        {
            yield return new ValidationResult(
                $"Schedule:TimeZone \"{TimeZone}\" is not a known time zone; use an IANA name such as America/Toronto",
                [nameof(TimeZone)]);
        }
    }
}
