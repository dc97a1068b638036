using System.ComponentModel.DataAnnotations;
using System.Net;

namespace PprnetNewsletter.Web;

public sealed class WebOptions : IValidatableObject
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

    /// <summary>
    /// The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto headers are believed: addresses
    /// (<c>10.0.0.5</c>) or networks (<c>10.0.0.0/8</c>), separated by ',' or ';'. Empty (the default): none, not even
    /// one on this machine, so no client can choose the address its rate limit and consent record are kept under.
    /// </summary>
    public string TrustedProxies { get; set; } = "";

    /// <summary>The entries of <see cref="TrustedProxies"/>, each an address or a network.</summary>
    public IReadOnlyList<string> TrustedProxyEntries =>
        TrustedProxies.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var entry in TrustedProxyEntries)
        {
            if (!IPAddress.TryParse(entry, out _) && !IPNetwork.TryParse(entry, out _))
            {
                yield return new ValidationResult(
                    $"Web:TrustedProxies: '{entry}' is neither an IP address (10.0.0.5) nor a network (10.0.0.0/8).", [nameof(TrustedProxies)]);
            }
        }
    }
}
