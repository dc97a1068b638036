using System.Net;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Web;

/// <summary>Settings that start fine but make mail fail in ways nobody sees at once: said at start, as warnings.</summary>
public static class StartupWarnings
{
    /// <summary>The warnings for the running <paramref name="app"/>, given the addresses it listens on.</summary>
    public static IReadOnlyList<string> For(IServiceProvider services, IReadOnlyCollection<string> listening)
    {
        var warnings = new List<string>();
        if (!string.IsNullOrWhiteSpace(services.GetRequiredService<IOptions<SmtpOptions>>().Value.Host)
            && !services.GetRequiredService<IOptions<DkimOptions>>().Value.Enabled)
        {
            warnings.Add("Mail goes through an SMTP relay unsigned: receivers trust unsigned bulk mail less, and Gmail and Yahoo " +
                "require DKIM. Run 'pprnet dkim init --domain YOUR-DOMAIN --selector NAME' and set Dkim:Domain, Dkim:Selector " +
                "and Dkim:PrivateKeyPath.");
        }
        var baseUrl = new Uri(services.GetRequiredService<IOptions<NewsletterOptions>>().Value.BaseUrl);
        foreach (var address in listening)
        {
            // Only where the links name this very server: behind a reverse proxy the public port differs on purpose.
            if (Uri.TryCreate(address, UriKind.Absolute, out var url) && SameServer(baseUrl, url) && url.Port != baseUrl.Port)
            {
                warnings.Add($"Newsletter:BaseUrl is {baseUrl} but the service listens on {url}: the links in every email " +
                    $"(unsubscribe, preferences, confirm) would not reach it. Make the port of Newsletter:BaseUrl {url.Port}, or Web:Urls listen on {baseUrl.Port}.");
            }
        }
        return warnings;
    }

    static bool SameServer(Uri baseUrl, Uri listening) =>
        string.Equals(baseUrl.Host, listening.Host, StringComparison.OrdinalIgnoreCase)
        || (IsLocal(baseUrl.Host) && IsLocal(listening.Host));

    static bool IsLocal(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && (IPAddress.IsLoopback(ip) || ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)));
}
