using System.Text.Encodings.Web;
using PprnetNewsletter.Content;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Web;

/// <summary>Who runs the list, for every page's footer (CASL: name, postal address, contact).</summary>
public sealed record SiteInfo(string Name, string PostalAddress, string ContactEmail, string? PrivacyUrl)
{
    /// <summary>The sender identity every page shows (CASL), from the newsletter's settings.</summary>
    public static SiteInfo From(NewsletterOptions options) => new(options.FromName, options.PostalAddress, options.ContactEmail,
        string.IsNullOrWhiteSpace(options.PrivacyUrl) ? null : options.PrivacyUrl);
}

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

/// <summary>A form with the name field and the topic checkboxes (subscribe, preferences).</summary>
public abstract class TopicFormPage : FormPageModel
{
    public required IReadOnlyList<Topic> Topics { get; init; }

    public string Name { get; init; } = "";

    public bool AllTopics { get; init; }

    public IReadOnlySet<string> SelectedSlugs { get; init; } = new HashSet<string>();

    public int MaxNameLength => Subscribers.SubscriberNameRules.MaxLength;

    public bool IsSelected(Topic topic) => SelectedSlugs.Contains(topic.Slug);
}

/// <summary>The subscribe form, blank or filled in again after an error.</summary>
public sealed class SubscribePage : TopicFormPage
{
    public string Email { get; init; } = "";

    public string ConsentWording => ConsentText.Wording;
}

/// <summary>The preference centre of one subscriber, reached through the HMAC token of their emails.</summary>
public sealed class PreferencesPage : TopicFormPage
{
    public required string Token { get; init; }

    public required string Email { get; init; }

    public required string Status { get; init; }

    /// <summary>What the last action did ("Your preferences are saved."), shown once after a redirect.</summary>
    public string? Notice { get; init; }

    public bool IsActive => Status == Subscribers.SubscriberStatus.Confirmed;

    public bool IsPaused => Status == Subscribers.SubscriberStatus.Paused;

    public bool IsUnsubscribed => Status is Subscribers.SubscriberStatus.Unsubscribed or Subscribers.SubscriberStatus.Bounced;

    /// <summary>The chosen topics' names, in the taxonomy's order (empty when <see cref="TopicFormPage.AllTopics"/>).</summary>
    public IReadOnlyList<string> ChosenTopicNames => Topics.Where(IsSelected).Select(t => t.Name).ToList();

    public string StatusText => Status switch
    {
        Subscribers.SubscriberStatus.Confirmed => "You receive the monthly digest.",
        Subscribers.SubscriberStatus.Paused => "Your subscription is paused: no digest is sent until you resume it.",
        Subscribers.SubscriberStatus.Pending => "Your subscription is not confirmed yet: use the link in the confirmation email.",
        Subscribers.SubscriberStatus.Bounced => "Mail to this address could not be delivered, so the digest is no longer sent.",
        _ => "You are unsubscribed: no digest is sent to you.",
    };
}

/// <summary>The last step before erasing a subscriber's personal data.</summary>
public sealed class ErasePage : FormPageModel
{
    public required string Token { get; init; }

    public required string Email { get; init; }
}

/// <summary>"Less of this": one button that takes a topic off the reader's choices, or what to do instead.</summary>
public sealed class LessOfPage : FormPageModel
{
    public required string Token { get; init; }

    public required Topic Topic { get; init; }

    public required bool AllTopics { get; init; }

    /// <summary>Confirmed (not paused): pausing is on offer.</summary>
    public required bool IsActive { get; init; }

    /// <summary>The reader's topics without <see cref="Topic"/>; null when it is not one of them; empty when it is the last.</summary>
    public required IReadOnlyList<Topic>? Remaining { get; init; }
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

    public required string Status { get; init; }

    /// <summary>True when no digest is sent any more: nothing left to unsubscribe from.</summary>
    public bool IsUnsubscribed => Status is Subscribers.SubscriberStatus.Unsubscribed or Subscribers.SubscriberStatus.Bounced;
}

public sealed record ArchiveEntry(string Month, string MonthName, IReadOnlyList<ArchiveTitle> Titles);

/// <summary>A summary's title and where it is on its edition's page.</summary>
public sealed record ArchiveTitle(string Title, string Href);

public sealed class ArchiveIndexPage : PageModel
{
    public required IReadOnlyList<ArchiveEntry> Editions { get; init; }
}

public sealed class ArchiveMonthPage : PageModel
{
    public required Edition Edition { get; init; }
}
