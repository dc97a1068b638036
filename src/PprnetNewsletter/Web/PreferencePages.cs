using System.Text.Json;
using PprnetNewsletter.Content;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Web;

/// <summary>
/// The preference centre at /preferences/{token}: no login, the signed token of the email link is the key.
/// Every form here also carries an antiforgery token: the link token alone would stop a forged cross-site post
/// (the forger cannot know it), but links get forwarded and pasted, and the antiforgery cookie costs nothing.
/// Each change answers with a redirect to the page (post/redirect/get), so reloading never repeats it.
/// </summary>
public static class PreferencePages
{
    static readonly JsonSerializerOptions DataJson = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    static readonly Dictionary<string, string> Notices = new()
    {
        ["saved"] = "Your preferences are saved.",
        ["paused"] = "The digest is paused.",
        ["resumed"] = "The digest is resumed.",
        ["unsubscribed"] = "You are unsubscribed. No more digests will be sent to you.",
    };

    public static IEndpointRouteBuilder MapPreferencePages(this IEndpointRouteBuilder app)
    {
        var preferences = app.MapGroup("/preferences/{token}").RequireRateLimiting(WebSetup.TokenPolicy).ExcludeFromDescription();

        preferences.MapGet("/", async (string token, string? done, SubscriberLinks links, TopicCatalog topics, CancellationToken ct) =>
        {
            if (await FindAsync(token, links, ct) is not { } subscriber)
            {
                return Unknown();
            }
            return Pages.Show("preferences", await PageAsync(token, subscriber, topics, Notices.GetValueOrDefault(done ?? "")));
        });

        preferences.MapPost("/", async (string token, HttpContext http, SubscriberLinks links, ISubscriberStore subscribers,
            TopicCatalog topics, CancellationToken ct) =>
        {
            if (await FindAsync(token, links, ct) is not { } subscriber)
            {
                return Unknown();
            }
            var form = await WebForms.ReadAsync(http);
            var check = new FormCheck(form);
            var name = check.Name();
            var selection = await check.TopicsAsync(topics);
            if (!check.IsValid)
            {
                var page = await PageAsync(token, subscriber, topics, null, check.Errors);
                return Pages.Show("preferences", page, StatusCodes.Status400BadRequest);
            }
            await subscribers.UpdatePreferencesAsync(subscriber.Id, name, selection, http.Consent(ConsentSource.Preferences), ct);
            return Done(token, "saved");
        });

        preferences.MapPost("/pause", (string token, HttpContext http, SubscriberLinks links, ISubscriberStore subscribers, CancellationToken ct) =>
            ChangeAsync(token, http, links, "paused", subscribers.PauseAsync, ct));
        preferences.MapPost("/resume", (string token, HttpContext http, SubscriberLinks links, ISubscriberStore subscribers, CancellationToken ct) =>
            ChangeAsync(token, http, links, "resumed", subscribers.ResumeAsync, ct));
        preferences.MapPost("/unsubscribe", (string token, HttpContext http, SubscriberLinks links, ISubscriberStore subscribers, CancellationToken ct) =>
            ChangeAsync(token, http, links, "unsubscribed", subscribers.UnsubscribeAsync, ct));

        preferences.MapGet("/data", async (string token, SubscriberLinks links, ISubscriberStore subscribers, CancellationToken ct) =>
        {
            if (await links.ResolveAsync(token, LinkPurpose.Preferences, ct) is not { } id
                || await subscribers.ExportPersonalDataAsync(id, ct) is not { } data)
            {
                return Unknown();
            }
            return Results.File(JsonSerializer.SerializeToUtf8Bytes(data, DataJson), "application/json", "pprnet-my-data.json");
        });

        preferences.MapGet("/erase", async (string token, SubscriberLinks links, CancellationToken ct) =>
            await FindAsync(token, links, ct) is { } subscriber
                ? Pages.Show("erase", new ErasePage { Title = "Erase your data", Token = token, Email = subscriber.Email })
                : Unknown());

        preferences.MapPost("/erase", async (string token, HttpContext http, SubscriberLinks links, ISubscriberStore subscribers, CancellationToken ct) =>
        {
            if (await FindAsync(token, links, ct) is not { } subscriber)
            {
                return Unknown();
            }
            await WebForms.ReadAsync(http);
            await subscribers.EraseAsync(subscriber.Id, http.Consent(ConsentSource.Preferences), ct);
            return Pages.Message(StatusCodes.Status200OK, "Data erased", "Your data is erased",
                "Your address, name and topics are deleted, and no email will be sent to you again.",
                "If you change your mind, you are welcome to subscribe again.");
        });

        return app;
    }

    /// <summary>The subscriber a genuine preferences token stands for, or null (tampered token, erased subscriber).</summary>
    internal static Task<Subscriber?> FindAsync(string token, SubscriberLinks links, CancellationToken ct) =>
        links.FindAsync(token, LinkPurpose.Preferences, ct);

    static async Task<IResult> ChangeAsync(string token, HttpContext http, SubscriberLinks links, string done,
        Func<long, ConsentContext, CancellationToken, Task<Subscriber?>> change, CancellationToken ct)
    {
        if (await FindAsync(token, links, ct) is not { } subscriber)
        {
            return Unknown();
        }
        await WebForms.ReadAsync(http);
        await change(subscriber.Id, http.Consent(ConsentSource.Preferences), ct);
        return Done(token, done);
    }

    static IResult Done(string token, string done) => Results.Redirect($"/preferences/{Uri.EscapeDataString(token)}?done={done}", preserveMethod: false);

    static async Task<PreferencesPage> PageAsync(string token, Subscriber subscriber, TopicCatalog topics, string? notice,
        IReadOnlyList<FieldError>? errors = null)
    {
        var all = await topics.AllAsync();
        return new PreferencesPage
        {
            Title = "Your preferences",
            Token = token,
            Email = subscriber.Email,
            Status = subscriber.Status,
            Name = subscriber.Name,
            AllTopics = subscriber.AllTopics,
            Topics = all,
            SelectedSlugs = all.Where(t => subscriber.TopicIds.Contains(t.Id)).Select(t => t.Slug).ToHashSet(),
            Notice = notice,
            Errors = errors ?? [],
        };
    }

    /// <summary>A tampered or truncated link, or one of a subscriber who has been erased: nothing to show.</summary>
    internal static IResult Unknown() => Pages.Message(StatusCodes.Status404NotFound, "Link not valid", "This link is not valid",
        "It may have been cut short or changed, or the subscription no longer exists. Use the link from your latest digest, or subscribe again.");
}
