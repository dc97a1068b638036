using System.ComponentModel.DataAnnotations;

namespace PprnetNewsletter.Web;

public sealed class WebOptions
{
    public const string Section = "Web";

    /// <summary>Where the service listens: one or more URLs separated by ';'.</summary>
    [Required(ErrorMessage = "Web:Urls is required, e.g. http://127.0.0.1:5080")]
    public string Urls { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Subscribe form posts accepted per client IP address and minute (list-bombing brake).</summary>
    [Range(1, 10_000, ErrorMessage = "Web:SubscribeLimitPerMinute must be between 1 and 10000")]
    public int SubscribeLimitPerMinute { get; set; } = 10;

    /// <summary>
    /// Requests to token pages (confirm, preferences, unsubscribe) accepted per client IP address and minute.
    /// Generous: mail providers send one-click unsubscribes for many readers from few addresses.
    /// </summary>
    [Range(1, 100_000, ErrorMessage = "Web:TokenLimitPerMinute must be between 1 and 100000")]
    public int TokenLimitPerMinute { get; set; } = 120;
}
