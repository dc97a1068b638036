using Microsoft.AspNetCore.Antiforgery;
using PprnetNewsletter.Content;

namespace PprnetNewsletter.Web;

/// <summary>
/// Reading posted forms safely: the wrong content type, an unreadable or oversized form and a missing or
/// stale antiforgery token are the sender's 4xx (with the reason), never a 500, and nothing is stored.
/// </summary>
public static class WebForms
{
    public const int MaxNameLength = 100;

    public static async Task<IFormCollection> ReadAsync(HttpContext context, bool checkAntiforgery = true)
    {
        if (!context.Request.HasFormContentType)
        {
            throw new BadHttpRequestException(
                "Send the form as application/x-www-form-urlencoded or multipart/form-data.", StatusCodes.Status415UnsupportedMediaType);
        }
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (InvalidDataException e)
        {
            // The form reader's limits (field count, field length) say exactly what was too big.
            throw new BadHttpRequestException($"The form could not be read: {e.Message}", StatusCodes.Status400BadRequest, e);
        }
        if (checkAntiforgery && !await context.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(context))
        {
            throw new BadHttpRequestException(
                "This form has expired or did not come from this site. Go back, reload the page and send it again.",
                StatusCodes.Status400BadRequest);
        }
        return form;
    }
}

/// <summary>Collects the problems of one form, each naming its field, in the order of the form.</summary>
public sealed class FormCheck(IFormCollection form)
{
    readonly List<FieldError> _errors = [];

    public IReadOnlyList<FieldError> Errors => _errors;

    public bool IsValid => _errors.Count == 0;

    public void Fail(string field, string message) => _errors.Add(new FieldError(field, message));

    /// <summary>One line of text: trimmed, no control characters (CR/LF would let a value forge an email header).</summary>
    public string Text(string field, string label, int maxLength)
    {
        var values = form[field];
        if (values.Count > 1)
        {
            Fail(field, $"{label}: send one value, not {values.Count}.");
            return "";
        }
        var text = (values.ToString() ?? "").Trim();
        if (text.Any(char.IsControl))
        {
            Fail(field, $"{label} must be on one line: remove line breaks and control characters.");
            return "";
        }
        if (text.Length > maxLength)
        {
            Fail(field, $"{label} is too long: at most {maxLength} characters (this one has {text.Length}).");
            return "";
        }
        return text;
    }

    /// <summary>The ticked topics (by slug) and the "All topics" box; at least one of them is required.</summary>
    public async Task<(bool AllTopics, IReadOnlyList<Topic> Topics)> TopicsAsync(TopicCatalog catalog)
    {
        var allTopics = form["allTopics"].Any(v => v is "true" or "on");
        var topics = new List<Topic>();
        foreach (var value in form["topics"])
        {
            var topic = string.IsNullOrWhiteSpace(value) || value.Any(char.IsControl) ? null : await catalog.FindAsync(value);
            if (topic is null)
            {
                Fail("topics", $"Topics: \"{Printable(value)}\" is not one of our topics. Choose from the list.");
                return (false, []);
            }
            if (!topics.Contains(topic))
            {
                topics.Add(topic);
            }
        }
        if (!allTopics && topics.Count == 0)
        {
            Fail("topics", "Topics: choose at least one topic, or All topics.");
        }
        return (allTopics, topics);
    }

    /// <summary>A value safe to echo in a message: control characters shown as '?', at most 60 characters.</summary>
    static string Printable(string? value)
    {
        var text = new string((value ?? "").Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return text.Length <= 60 ? text : text[..60] + "…";
    }
}
