using System.Text.Encodings.Web;
using PprnetNewsletter.Content;

namespace PprnetNewsletter.Web;

/// <summary>Who runs the list, for every page's footer (CASL: name, postal address, contact).</summary>
public sealed record SiteInfo(string Name, string PostalAddress, string ContactEmail);

public sealed record AntiforgeryField(string Name, string Value);

/// <summary>What every page template gets. RazorLight needs these types public.</summary>
public abstract class PageModel
{
    public required string Title { get; init; }

    /// <summary>Filled in by <see cref="PageRenderer"/>.</summary>
    public SiteInfo Site { get; set; } = null!;
}

/// <summary>A page with at least one form protected by an antiforgery token, and field errors to show.</summary>
public abstract class FormPageModel : PageModel
{
    /// <summary>Filled in by <see cref="PageRenderer"/>.</summary>
    public AntiforgeryField Antiforgery { get; set; } = null!;

    /// <summary>Field name → what is wrong with it, in form order.</summary>
    public IReadOnlyList<FieldError> Errors { get; init; } = [];

    public string? ErrorFor(string field) => Errors.FirstOrDefault(e => e.Field == field)?.Message;

    /// <summary>The hidden input carrying the antiforgery token.</summary>
    public string AntiforgeryInput =>
        $"<input type=\"hidden\" name=\"{HtmlEncoder.Default.Encode(Antiforgery.Name)}\" value=\"{HtmlEncoder.Default.Encode(Antiforgery.Value)}\">";
}

public sealed record FieldError(string Field, string Message);

/// <summary>A heading and a few paragraphs: "check your inbox", "you are unsubscribed", errors.</summary>
public sealed class MessagePage : PageModel
{
    public required string Heading { get; init; }

    public IReadOnlyList<string> Paragraphs { get; init; } = [];

    public (string Text, string Href)? Link { get; init; }
}

/// <summary>The subscribe form, blank or filled in again after an error.</summary>
public sealed class SubscribePage : FormPageModel
{
    public required IReadOnlyList<Topic> Topics { get; init; }

    public string Email { get; init; } = "";

    public string Name { get; init; } = "";

    public bool AllTopics { get; init; }

    public IReadOnlySet<string> SelectedSlugs { get; init; } = new HashSet<string>();

    public string ConsentWording => ConsentText.Wording;

    public bool IsSelected(Topic topic) => SelectedSlugs.Contains(topic.Slug);
}

/// <summary>The confirm button behind the link of the confirmation email.</summary>
public sealed class ConfirmPage : FormPageModel
{
    public required string Token { get; init; }
}

/// <summary>The one-click unsubscribe page reached by GET: it only shows a button.</summary>
public sealed class UnsubscribePage : PageModel
{
    public required string Token { get; init; }
}

public sealed record ArchiveEntry(string Month, string MonthName, IReadOnlyList<string> Titles);

public sealed class ArchiveIndexPage : PageModel
{
    public required IReadOnlyList<ArchiveEntry> Editions { get; init; }
}

public sealed class ArchiveMonthPage : PageModel
{
    public required Edition Edition { get; init; }
}
