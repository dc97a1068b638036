using System.ComponentModel.DataAnnotations;

namespace PprnetNewsletter.Delivery;

public sealed class DeliveryOptions
{
    public const string Section = "Delivery";

    /// <summary>Where one .eml file per message goes when no SMTP host is set.</summary>
    [Required(ErrorMessage = "Delivery:PickupDirectory is required, e.g. data/outbox")]
    public string PickupDirectory { get; set; } = "data/outbox";

    /// <summary>How long a deferred message keeps being retried before it is failed (RFC 5321 §4.5.4.1).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00",
        ErrorMessage = "Delivery:GiveUpAfter must be between 00:01:00 and 30.00:00:00")]
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromDays(3);

    /// <summary>Retries of a transient failure within one run, before the row is deferred to a later run.</summary>
    [Range(0, 10, ErrorMessage = "Delivery:RetryAttempts must be between 0 and 10")]
    public int RetryAttempts { get; set; } = 3;

    /// <summary>The first in-run back-off; it doubles with each retry, with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00",
        ErrorMessage = "Delivery:RetryDelay must be between 00:00:00.001 and 00:10:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The first wait before a deferred row is tried again; later waits grow with the time already spent
    /// (so roughly double), up to six hours, until <see cref="GiveUpAfter"/>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00",
        ErrorMessage = "Delivery:DeferredRetryInterval must be between 00:00:00 and 1.00:00:00")]
    public TimeSpan DeferredRetryInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the service looks for deferred rows that are due (and sends interrupted by a crash).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00",
        ErrorMessage = "Delivery:RetryPollInterval must be between 00:00:01 and 1.00:00:00")]
    public TimeSpan RetryPollInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a run holds its edition (and the rows it claimed) without renewing. A living run renews both with a
    /// heartbeat every third of this; a run killed without a word (kill -9, power loss) is taken over by the next run
    /// once this has passed since its last heartbeat. Short, so a rerun after a crash waits seconds, not minutes.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:00:30",
        ErrorMessage = "Delivery:LeaseDuration must be between 00:00:01 and 00:00:30")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>A relay that has not accepted anything for this long (connections refused, dropped, timed out) stops the run.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00",
        ErrorMessage = "Delivery:StopAfterOutage must be between 00:00:01 and 1.00:00:00")]
    public TimeSpan StopAfterOutage { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>How long the whole send pauses when the SMTP server keeps failing, before it is tried again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00",
        ErrorMessage = "Delivery:CircuitBreakDuration must be between 00:00:00.500 and 01:00:00")]
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(30);
}
