using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Web;

/// <summary>
/// One-click unsubscribe (RFC 8058) at the List-Unsubscribe URL /u/{token}. A POST whose body is
/// <c>List-Unsubscribe=One-Click</c> unsubscribes at once and answers 200 — mail providers send it without
/// cookies, so there is no antiforgery check; the signed token is the proof. A GET (a person's click, or a mail
/// scanner) only shows a button that sends that same POST, and never unsubscribes by itself.
/// </summary>
public static class UnsubscribePages
{
    public static IEndpointRouteBuilder MapUnsubscribePages(this IEndpointRouteBuilder app)
    {
        var unsubscribe = app.MapGroup("/u/{token}").RequireRateLimiting(WebSetup.TokenPolicy).ExcludeFromDescription();

        // The page shows where the subscription stands now: after a one-click unsubscribe (by the mail provider, or
        // this page's button) it says so, rather than offering the button again. A deleted or erased subscriber's link
        // opens nothing (404), as does a link whose id may be someone else's.
        unsubscribe.MapGet("/", async (string token, SubscriberLinks links, ISubscriberStore subscribers, CancellationToken ct) =>
            await links.ResolveAsync(token, LinkPurpose.Unsubscribe, ct) is { } id && await subscribers.GetAsync(id, ct) is { } subscriber
                ? Pages.Show("unsubscribe", new UnsubscribePage { Title = "Unsubscribe", Token = token, Status = subscriber.Status })
                : PreferencePages.Unknown());

        unsubscribe.MapPost("/", async (string token, HttpContext http, SubscriberLinks links, ISubscriberStore subscribers, CancellationToken ct) =>
        {
            // A deleted or erased subscriber's link opens nothing (404), as does a link whose id may be someone else's.
            if (await links.ResolveAsync(token, LinkPurpose.Unsubscribe, ct) is not { } id)
            {
                return PreferencePages.Unknown();
            }
            var form = await WebForms.ReadAsync(http, checkAntiforgery: false);
            if (form["List-Unsubscribe"].ToString() != "One-Click")
            {
                return Pages.Message(StatusCodes.Status400BadRequest, "Not unsubscribed", "Nothing was changed",
                    "A one-click unsubscribe must send List-Unsubscribe=One-Click. Use the button on this page.");
            }
            await subscribers.UnsubscribeAsync(id, http.Consent(ConsentSource.OneClick), ct);
            return Pages.Message(StatusCodes.Status200OK, "Unsubscribed", "You are unsubscribed",
                "No more digests will be sent to this address.", "Changed your mind? You are welcome to subscribe again.");
        });

        return app;
    }
}
