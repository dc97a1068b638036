using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Web;

public static class WebConsent
{
    /// <summary>
    /// Who is acting, for the consent ledger: the source, the client's address (behind a local reverse proxy,
    /// the forwarded one), its user agent and the version of the consent wording the form shows.
    /// </summary>
    public static ConsentContext Consent(this HttpContext context, string source) => new(
        source,
        context.Connection.RemoteIpAddress?.ToString(),
        context.Request.Headers.UserAgent.ToString() is { Length: > 0 } agent ? agent : null,
        ConsentText.Version);
}
