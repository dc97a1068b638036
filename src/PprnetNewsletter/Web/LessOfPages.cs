using PprnetNewsletter.Content;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Web;

/// <summary>
/// "Less of this": the link beside each summary of a digest, /preferences/{token}/less?topic=SLUG. The reader's
/// own signed preferences token authorises it; the topic is a plain parameter checked against the taxonomy. GET
/// shows one button (mail scanners follow links, so a GET never changes anything); POST takes the topic off the
/// reader's choices (consent source <c>preferences</c>) and says what remains. A reader whose last topic it is
/// is offered a pause or unsubscribing instead, since a subscription needs at least one topic.
/// </summary>
public static class LessOfPages
{
    public static IEndpointRouteBuilder MapLessOfPages(this IEndpointRouteBuilder app)
    {
        var less = app.MapGroup("/preferences/{token}/less").RequireRateLimiting(WebSetup.TokenPolicy).ExcludeFromDescription();

        less.MapGet("/", async (string token, string? topic, SubscriberLinks links, TopicCatalog topics, CancellationToken ct) =>
        {
            if (await PreferencePages.FindAsync(token, links, ct) is not { } subscriber)
            {
                return PreferencePages.Unknown();
            }
            return await topics.FindAsync(topic ?? "") is { } chosen
                ? Pages.Show("less", await PageAsync(token, subscriber, chosen, topics))
                : UnknownTopic(token);
        });

        less.MapPost("/", async (string token, HttpContext http, SubscriberLinks links, ISubscriberStore subscribers, TopicCatalog topics, CancellationToken ct) =>
        {
            if (await PreferencePages.FindAsync(token, links, ct) is not { } subscriber)
            {
                return PreferencePages.Unknown();
            }
            var form = await WebForms.ReadAsync(http);
            if (await topics.FindAsync(form["topic"].ToString()) is not { } chosen)
            {
                return UnknownTopic(token);
            }
            var page = await PageAsync(token, subscriber, chosen, topics);
            if (page.Remaining is not { Count: > 0 } remaining)
            {
                // Not one of their topics, or their last one: nothing to take off; the page says what they can do.
                return Pages.Show("less", page, StatusCodes.Status409Conflict);
            }
            await subscribers.UpdatePreferencesAsync(subscriber.Id, null, TopicSelection.Of(remaining.Select(t => t.Id)),
                http.Consent(ConsentSource.Preferences), ct);
            return Pages.Show("message", new MessagePage
            {
                Title = "Topic removed",
                Heading = $"No more summaries on {chosen.Name}",
                Paragraphs = [$"Your topics now: {string.Join(", ", remaining.Select(t => t.Name))}."],
                Link = ("Change your topics or pause the digest", $"/preferences/{Uri.EscapeDataString(token)}"),
            });
        });

        return app;
    }

    /// <summary>What taking <paramref name="topic"/> off would leave: null when it is not one of the reader's topics.</summary>
    static async Task<LessOfPage> PageAsync(string token, Subscriber subscriber, Topic topic, TopicCatalog topics)
    {
        var all = await topics.AllAsync();
        var chosen = subscriber.AllTopics ? all : all.Where(t => subscriber.TopicIds.Contains(t.Id)).ToList();
        return new LessOfPage
        {
            Title = $"Stop {topic.Name}",
            Token = token,
            Topic = topic,
            AllTopics = subscriber.AllTopics,
            IsActive = subscriber.Status == SubscriberStatus.Confirmed,
            Remaining = chosen.Any(t => t.Id == topic.Id) ? chosen.Where(t => t.Id != topic.Id).ToList() : null,
        };
    }

    static IResult UnknownTopic(string token) => Pages.Show("message", new MessagePage
    {
        Title = "Unknown topic",
        Heading = "This link names no topic",
        Paragraphs = ["It may have been cut short. You can choose your topics on your preferences page."],
        Link = ("Your preferences", $"/preferences/{Uri.EscapeDataString(token)}"),
    }, StatusCodes.Status404NotFound);
}
