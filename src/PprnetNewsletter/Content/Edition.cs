namespace PprnetNewsletter.Content;

/// <summary>One month's edition and its summaries in edition order.</summary>
public sealed record Edition(long Id, string Month, string Status, DateTimeOffset? SentAt, IReadOnlyList<Summary> Summaries)
{
    /// <summary>"March 2023" for "2023-03".</summary>
    public string MonthName => MonthNames.Display(Month);
}

/// <summary>A research summary as imported: Markdown rendered to HTML, and plain text for text emails.</summary>
public sealed record Summary(
    long Id,
    string Slug,
    int Position,
    string Title,
    string? Citation,
    string? ResearchType,
    string BodyHtml,
    string BodyText,
    string ImplicationsHtml,
    string ImplicationsText,
    IReadOnlyList<Topic> Topics)
{
    /// <summary>The cited article's address (a doi.org link or the summary file's url), or null.</summary>
    public string? Link { get; init; }
}

public static class MonthNames
{
    /// <summary>Parses "YYYY-MM"; false for anything else.</summary>
    public static bool TryParse(string? text, out DateOnly firstDay) =>
        DateOnly.TryParseExact(text + "-01", "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.None, out firstDay) && text!.Length == 7;

    public static string Display(string month) =>
        TryParse(month, out var day) ? day.ToString("MMMM yyyy", System.Globalization.CultureInfo.InvariantCulture) : month;
}

/// <summary>An edition without its summaries, just how many: for lists (archive, admin) and the sending engine.</summary>
public sealed record EditionInfo(long Id, string Month, string Status, long SummaryCount, DateTimeOffset? SendStartedAt, DateTimeOffset? SentAt)
{
    public string MonthName => MonthNames.Display(Month);
}

/// <summary>The life of an edition: a draft until sending starts; from then on its content is what subscribers get.</summary>
public static class EditionStatus
{
    public const string Draft = "draft";
    public const string Sending = "sending";
    public const string Sent = "sent";

    /// <summary>True once sending has started: changing the content now would give subscribers different digests.</summary>
    public static bool IsLocked(string status) => status is Sending or Sent;
}
