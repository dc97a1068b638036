namespace PprnetNewsletter.Web;

/// <summary>Results that render a page template.</summary>
public static class Pages
{
    public static IResult Show(string page, PageModel model, int statusCode = StatusCodes.Status200OK) =>
        new HtmlResult(http => http.RequestServices.GetRequiredService<PageRenderer>().RenderAsync(http, page, model), statusCode);

    public static IResult Message(int statusCode, string title, string heading, params string[] paragraphs) =>
        Show("message", new MessagePage { Title = title, Heading = heading, Paragraphs = paragraphs }, statusCode);
}

/// <summary>An HTML page rendered when the result executes: rendering needs the request (antiforgery token, signed-in user).</summary>
public sealed class HtmlResult(Func<HttpContext, Task<string>> render, int statusCode) : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public int? StatusCode => statusCode;

    public string ContentType => "text/html; charset=utf-8";

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var html = await render(httpContext);
        httpContext.Response.StatusCode = statusCode;
        httpContext.Response.ContentType = ContentType;
        await httpContext.Response.WriteAsync(html, httpContext.RequestAborted);
    }
}
