using Microsoft.Net.Http.Headers;

namespace PprnetNewsletter.Web;

/// <summary>
/// A request body is read as UTF-8, US-ASCII (a subset of it) or ISO-8859-1 (one byte per character, which a
/// client may still declare on a plain ASCII body such as a one-click unsubscribe). Any other declared charset is
/// refused with 415 before an endpoint reads the body: .NET refuses some (UTF-7) with an exception deep inside the
/// form and JSON readers, and others would decode a form into text nobody typed.
/// </summary>
public static class RequestCharsets
{
    static readonly string[] Accepted = ["utf-8", "utf8", "us-ascii", "iso-8859-1"];

    public static IApplicationBuilder UseRequestCharsetCheck(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var contentType = context.Request.ContentType;
        if (contentType is not null && Problem(contentType) is { } problem)
        {
            await ErrorResponses.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "Unsupported character set", problem);
            return;
        }
        await next(context);
    });

    static string? Problem(string contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed))
        {
            return "The Content-Type header could not be read. Send, for example, 'application/x-www-form-urlencoded; charset=utf-8'.";
        }
        var charset = parsed.Charset.Value?.Trim('"');
        return charset is null || Accepted.Contains(charset, StringComparer.OrdinalIgnoreCase)
            ? null
            : $"The request declares the character set '{Printable(charset)}'; send it as UTF-8 (charset=utf-8).";
    }

    static string Printable(string text) => new(text.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
