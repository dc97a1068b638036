using Microsoft.AspNetCore.Diagnostics;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Web;

/// <summary>
/// One place that turns an error into a response: ProblemDetails (JSON) for the admin API, a page for people.
/// </summary>
public static class ErrorResponses
{
    public static bool IsApi(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/admin/api") || context.Request.Path.StartsWithSegments("/openapi");

    public static async Task WriteAsync(HttpContext context, int statusCode, string title, string detail)
    {
        context.Response.StatusCode = statusCode;
        if (IsApi(context))
        {
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = statusCode, Title = title, Detail = detail },
            });
        }
        else
        {
            await Pages.Message(statusCode, title, title, detail).ExecuteAsync(context);
        }
    }
}

/// <summary>
/// Unhandled exceptions: bad input (<see cref="UsageException"/>, unreadable or oversized requests) is the
/// caller's 4xx with the reason; anything else is logged and answered with a 500 that leaks nothing.
/// </summary>
sealed class WebExceptionHandler(ILogger<WebExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = exception switch
        {
            UsageException usage => (StatusCodes.Status400BadRequest, "The request is not valid", usage.Message),
            BadHttpRequestException bad => (bad.StatusCode, "The request could not be read", bad.Message),
            _ => (StatusCodes.Status500InternalServerError, "Something went wrong",
                "The error has been recorded. Please try again later."),
        };
        if (status >= StatusCodes.Status500InternalServerError)
        {
            logger.LogError(exception, "{Method} {Path} failed", httpContext.Request.Method, httpContext.Request.Path);
        }
        else
        {
            logger.LogInformation("{Method} {Path} refused: {Reason}", httpContext.Request.Method, httpContext.Request.Path, detail);
        }
        await ErrorResponses.WriteAsync(httpContext, status, title, detail);
        return true;
    }
}
