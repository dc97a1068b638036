using Microsoft.AspNetCore.Antiforgery;
using PprnetNewsletter.Content;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Web;

/// <summary>
/// Reading posted forms safely: the wrong content type, an unreadable or oversized form and a missing or
/// stale antiforgery token are the sender's 4xx (with the reason), never a 500, and nothing is stored.
/// </summary>
public static class WebForms
{
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
        catch (IOException e) when (e is not BadHttpRequestException)
        {
            // A body that ends early (a truncated multipart form, a client that went away) is the sender's fault.
            throw new BadHttpRequestException("The form ended before it was complete. Send it again.", StatusCodes.Status400BadRequest, e);
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

/// <summary>
/// Collects the problems of one form, each naming its field, in the order of the form. Addresses and names are
/// checked by the subscribers' own rules, so the web refuses exactly what the store would.
/// </summary>
public sealed class FormCheck(IFormCollection form)
{
    readonly List<FieldError> _errors = [];

    public IReadOnlyList<FieldError> Errors => _errors;

    public bool IsValid => _errors.Count == 0;

    /// <summary>The field as sent (trimmed; empty when absent): what the form shows again after an error.</summary>
    public string Raw(string field) => form[field].Count == 1 ? (form[field].ToString() ?? "").Trim() : "";

    public string Email()
    {
        if (One("email", "Email address") is not { } text)
        {
            return "";
        }
        if (text.Length == 0)
        {
            Fail("email", "Email address: enter your email address, like name@example.org.");
            return "";
        }
        if (!EmailAddressRules.TryNormalize(text, out var email, out var problem))
        {
            Fail("email", $"Email address: {problem}.");
            return "";
        }
        return email;
    }

    public string Name()
    {
        if (One("name", "Name") is not { } text)
        {
            return "";
        }
        if (!SubscriberNameRules.TryNormalize(text, out var name, out var problem))
        {
            Fail("name", $"Name: {problem}.");
            return "";
        }
        return name;
    }

    /// <summary>The ticked topics (by slug) or the "All topics" box; at least one of them is required.</summary>
    public async Task<TopicSelection> TopicsAsync(TopicCatalog catalog)
    {
        if (form["allTopics"].Any(v => v is "true" or "on"))
        {
            return TopicSelection.All;
        }
        var ids = new List<long>();
        foreach (var value in form["topics"])
        {
            var topic = string.IsNullOrWhiteSpace(value) || value.Any(char.IsControl) ? null : await catalog.FindAsync(value);
            if (topic is null)
            {
                Fail("topics", $"Topics: \"{EmailAddressRules.Printable(value)}\" is not one of our topics. Choose from the list.");
                return TopicSelection.Of([]);
            }
            ids.Add(topic.Id);
        }
        if (ids.Count == 0)
        {
            Fail("topics", "Topics: choose at least one topic, or All topics.");
        }
        return TopicSelection.Of(ids);
    }

    void Fail(string field, string message) => _errors.Add(new FieldError(field, message));

    /// <summary>The single value of a one-line field; a field sent twice, or with a line break, is refused.</summary>
    string? One(string field, string label)
    {
        var values = form[field];
        if (values.Count > 1)
        {
            Fail(field, $"{label}: send one value, not {values.Count}.");
            return null;
        }
        var text = (values.ToString() ?? "").Trim();
        if (text.Any(char.IsControl))
        {
            Fail(field, $"{label} must be on one line: remove line breaks and control characters.");
            return null;
        }
        return text;
    }
}
