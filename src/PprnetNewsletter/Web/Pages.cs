namespace PprnetNewsletter.Web;

/// <summary>Results that render a page template.</summary>
public static class Pages
{
    public static IResult Show(string page, PageModel model, int statusCode = StatusCodes.Status200OK) =>
        new PageResult(page, model, statusCode);

    public static IResult Message(int statusCode, string title, string heading, params string[] paragraphs) =>
        new PageResult("message", new MessagePage { Title = title, Heading = heading, Paragraphs = paragraphs }, statusCode);

    sealed class PageResult(string page, PageModel model, int statusCode) : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
    {
        public int? StatusCode => statusCode;

        public string ContentType => "text/html; charset=utf-8";

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var html = await httpContext.RequestServices.GetRequiredService<PageRenderer>().RenderAsync(httpContext, page, model);
            httpContext.Response.StatusCode = statusCode;
            httpContext.Response.ContentType = ContentType;
            await httpContext.Response.WriteAsync(html, httpContext.RequestAborted);
        }
    }
}
