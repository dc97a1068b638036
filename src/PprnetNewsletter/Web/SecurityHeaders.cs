namespace PprnetNewsletter.Web;

/// <summary>
/// Headers on every response. The pages need no script at all, so the policy allows none; styles come only
/// from /site.css. Referrer-Policy is no-referrer everywhere, because token pages (confirm, preferences,
/// unsubscribe) carry a secret in their URL and a referrer would leak it to any site they link to.
/// </summary>
public static class SecurityHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>Set when the response starts, so error responses (whose headers are reset) carry them too.</summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            Apply(context.Response.Headers);
            return Task.CompletedTask;
        });
        await next(context);
    });

    static void Apply(IHeaderDictionary headers)
    {
        // An endpoint may set a policy of its own (the admin digest preview allows the email's inline styles).
        if (string.IsNullOrEmpty(headers.ContentSecurityPolicy))
        {
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
        }
        headers.XContentTypeOptions = "nosniff";
        // The admin digest preview may be framed by the dashboard itself (SAMEORIGIN); nothing else may be framed.
        if (string.IsNullOrEmpty(headers.XFrameOptions))
        {
            headers.XFrameOptions = "DENY";
        }
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()";
    }
}
