using PprnetNewsletter.Content;

namespace PprnetNewsletter.Digests;

// The models the Razor templates in templates/ see. They must be public (RazorLight compiles the templates
// in their own assembly). Per-reader values (Reader.Name, Reader.Email, Reader.Topics, Links.Unsubscribe,
// Links.Preferences, Links.Confirm) hold placeholders while a template renders and are filled in per email
// afterwards, so templates print them as they are and never transform them or branch on their content.

/// <summary>What the shared layout needs: subject, reader, sender (CASL) and links.</summary>
public abstract class EmailModel
{
    public required string Subject { get; init; }

    public required ReaderView Reader { get; init; }

    public required SenderView Sender { get; init; }

    public required EmailLinks Links { get; init; }
}

public sealed class ReaderView
{
    /// <summary>The reader's name as they gave it (placeholder while rendering); only meaningful when <see cref="HasName"/>.</summary>
    public required string Name { get; init; }

    public required bool HasName { get; init; }

    public required string Email { get; init; }

    /// <summary>"Depression and Depressive Symptoms, Training", or "all topics".</summary>
    public required string Topics { get; init; }
}

/// <summary>Who sends the email: CASL requires the name, a postal address and a way to reach them.</summary>
public sealed class SenderView
{
    public required string Name { get; init; }

    public required string PostalAddress { get; init; }

    public required string ContactEmail { get; init; }
}

public sealed class EmailLinks
{
    public required string Home { get; init; }

    /// <summary>The month's archive page ("view in browser"); null for emails that are not a digest.</summary>
    public string? ViewInBrowser { get; init; }

    /// <summary>One-click unsubscribe; null when the reader is not subscribed yet (confirmation email).</summary>
    public string? Unsubscribe { get; init; }

    public string? Preferences { get; init; }

    /// <summary>The double opt-in link (confirmation email only).</summary>
    public string? Confirm { get; init; }
}

/// <summary>templates/Digest.cshtml and Digest.txt.cshtml.</summary>
public sealed class DigestModel : EmailModel
{
    /// <summary>"2023-03".</summary>
    public required string Month { get; init; }

    /// <summary>"March 2023".</summary>
    public required string MonthName { get; init; }

    /// <summary>The summaries on the reader's topics, in edition order (empty for the "nothing this month" note).</summary>
    public required IReadOnlyList<DigestEntry> Summaries { get; init; }

    /// <summary>The other summaries of the month: titles with links to the archive.</summary>
    public required IReadOnlyList<DigestEntry> AlsoThisMonth { get; init; }
}

/// <summary>A summary and its absolute link on the archive page.</summary>
public sealed record DigestEntry(Summary Summary, string Url)
{
    /// <summary>For a summary on the reader's topics: one "less of this" link per topic of it the reader chose.</summary>
    public IReadOnlyList<LessOfLink> LessOf { get; init; } = [];
}

/// <summary>"Less of this: stop {TopicName}": the page that takes one topic off the reader's choices (per reader).</summary>
public sealed record LessOfLink(string TopicName, string Url);

/// <summary>templates/Confirmation.cshtml: "confirm your subscription" (Links.Confirm).</summary>
public sealed class ConfirmationModel : EmailModel;

/// <summary>templates/ManagePreferences.cshtml: sent when a confirmed address subscribes again (Links.Preferences).</summary>
public sealed class ManagePreferencesModel : EmailModel;
