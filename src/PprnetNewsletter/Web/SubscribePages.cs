using PprnetNewsletter.Content;

namespace PprnetNewsletter.Web;

/// <summary>
/// Double opt-in: GET / (the form), POST /subscribe (always the same "check your inbox" answer),
/// GET /confirm (a button, because mail scanners follow links) and POST /confirm.
/// </summary>
public static class SubscribePages
{
    public static IEndpointRouteBuilder MapSubscribePages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", async (TopicCatalog topics) =>
            Pages.Show("subscribe", new SubscribePage { Title = "Subscribe", Topics = await topics.AllAsync() }))
            .ExcludeFromDescription();
        return app;
    }
}
