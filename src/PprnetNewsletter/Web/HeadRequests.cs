namespace PprnetNewsletter.Web;

/// <summary>
/// HEAD answers as GET does, headers and status alike, without the body: uptime monitors and link checkers ask
/// with HEAD, and a 405 reads to them as "down". The request runs as a GET (so every GET endpoint answers it)
/// with the body written nowhere.
/// </summary>
public static class HeadRequests
{
    public static WebApplication UseHeadAsGet(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await next(context);
                return;
            }
            context.Request.Method = HttpMethods.Get;
            var body = context.Response.Body;
            context.Response.Body = Stream.Null;
            try
            {
                await next(context);
            }
            finally
            {
                context.Response.Body = body;
                context.Request.Method = HttpMethods.Head;
            }
        });
        return app;
    }
}
