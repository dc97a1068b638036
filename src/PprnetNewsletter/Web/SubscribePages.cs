using PprnetNewsletter.Content;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Web;

/// <summary>
/// Double opt-in: GET / (the form), POST /subscribe (always the same "check your inbox" answer, so the page
/// never tells whether an address is known), GET /confirm (only a button, because mail scanners follow links)
/// and POST /confirm.
/// </summary>
public static class SubscribePages
{
    public static IEndpointRouteBuilder MapSubscribePages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", async (TopicCatalog topics) =>
            Pages.Show("subscribe", new SubscribePage { Title = "Subscribe", Topics = await topics.AllAsync() }))
            .ExcludeFromDescription();

        app.MapPost("/subscribe", SubscribeAsync).RequireRateLimiting(WebSetup.SubscribePolicy).ExcludeFromDescription();

        app.MapGet("/confirm", async (string? token, ConfirmationTokens tokens, CancellationToken ct) =>
        {
            var status = await tokens.CheckAsync(token, ct);
            return status == ConfirmationStatus.Valid
                ? Pages.Show("confirm", new ConfirmPage { Title = "Confirm your subscription", Token = token! })
                : Refusal(status);
        }).RequireRateLimiting(WebSetup.TokenPolicy).ExcludeFromDescription();

        app.MapPost("/confirm", ConfirmAsync).RequireRateLimiting(WebSetup.TokenPolicy).ExcludeFromDescription();
        return app;
    }

    static async Task<IResult> SubscribeAsync(HttpContext http, TopicCatalog topics, ISubscriberStore subscribers,
        ConfirmationTokens tokens, SubscriptionMail mail, CancellationToken ct)
    {
        var form = await WebForms.ReadAsync(http);
        var check = new FormCheck(form);
        var email = check.Email();
        var name = check.Name();
        var selection = await check.TopicsAsync(topics);
        if (!check.IsValid)
        {
            return Pages.Show("subscribe", new SubscribePage
            {
                Title = "Subscribe",
                Topics = await topics.AllAsync(),
                Errors = check.Errors,
                Email = check.Raw("email"),
                Name = check.Raw("name"),
                AllTopics = selection.AllTopics,
                SelectedSlugs = form["topics"].OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase),
            }, StatusCodes.Status400BadRequest);
        }

        var result = await subscribers.SubscribeAsync(email, name, selection, http.Consent(ConsentSource.Form), ct);
        if (result.NeedsConfirmation && await tokens.IssueAsync(result.Subscriber.Id, ct) is { } confirmation)
        {
            await mail.SendConfirmationAsync(result.Subscriber, confirmation, ct);
        }
        else if (!result.NeedsConfirmation)
        {
            await mail.SendPreferencesLinkAsync(result.Subscriber, ct);
        }
        return Pages.Message(StatusCodes.Status200OK, "Check your inbox", "Check your inbox",
            $"We have sent an email to {email}. Open it and follow the link inside to confirm your subscription or manage it.",
            $"The link works for {ConfirmationTokens.Lifetime.TotalHours:0} hours. No email? Check your spam folder, or subscribe again.");
    }

    static async Task<IResult> ConfirmAsync(HttpContext http, ConfirmationTokens tokens, LinkTokens links, CancellationToken ct)
    {
        var form = await WebForms.ReadAsync(http);
        var result = await tokens.RedeemAsync(form["token"].ToString(), http.Consent(ConsentSource.Form), ct);
        if (result is not { Status: ConfirmationStatus.Valid, Subscriber: { } subscriber })
        {
            return Refusal(result.Status);
        }
        return Pages.Show("message", new MessagePage
        {
            Title = "Subscription confirmed",
            Heading = "You are subscribed",
            Paragraphs = ["Thank you. The next monthly digest will bring you the research summaries on your topics."],
            Link = ("Manage your preferences", "/preferences/" + links.Create(subscriber.Id, LinkPurpose.Preferences)),
        });
    }

    /// <summary>Why a confirmation link does not work, and what to do about it.</summary>
    static IResult Refusal(ConfirmationStatus status) => status switch
    {
        ConfirmationStatus.Expired => Pages.Message(StatusCodes.Status410Gone, "Link expired", "This confirmation link has expired",
            $"Confirmation links work for {ConfirmationTokens.Lifetime.TotalHours:0} hours. Subscribe again to get a new one."),
        ConfirmationStatus.Used => Pages.Message(StatusCodes.Status410Gone, "Link already used", "This confirmation link was already used",
            "Your subscription is confirmed. Each monthly digest has a link to manage your preferences."),
        _ => Pages.Message(StatusCodes.Status400BadRequest, "Link not valid", "This confirmation link is not valid",
            "Check that the whole link from the email was copied, or subscribe again to get a new one."),
    };
}
