using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace PprnetNewsletter.Web;

/// <summary>X-Forwarded-For and X-Forwarded-Proto, believed only from the proxies listed in Web:TrustedProxies.</summary>
public static class TrustedProxies
{
    public static void Configure(ForwardedHeadersOptions forwarded, IReadOnlyList<string> entries)
    {
        // ASP.NET Core's defaults trust loopback; and with no known proxy at all it would trust every client. So the
        // lists are replaced by exactly the configured ones, and with none the headers are not read at all.
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        forwarded.ForwardedHeaders = entries.Count == 0 ? ForwardedHeaders.None : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        // A proxy that only says X-Forwarded-Proto (TLS ends there) is still believed about the scheme.
        forwarded.RequireHeaderSymmetry = false;
        foreach (var entry in entries)
        {
            if (IPAddress.TryParse(entry, out var address))
            {
                forwarded.KnownProxies.Add(address);
            }
            else
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(entry));
            }
        }
    }
}
