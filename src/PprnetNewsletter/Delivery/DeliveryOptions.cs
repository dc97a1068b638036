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
}
