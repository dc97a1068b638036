using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Web;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>What every dashboard template gets. RazorLight needs these types public.</summary>
public abstract class AdminPage : FormPageModel
{
    /// <summary>The signed-in administrator (null on the sign-in page). Filled in by <see cref="AdminPageRenderer"/>.</summary>
    public string? AdminEmail { get; set; }

    /// <summary>What the last action did, shown once after a redirect.</summary>
    public string? Notice { get; init; }
}

public sealed class AdminMessagePage : AdminPage
{
    public IReadOnlyList<string> Paragraphs { get; init; } = [];
}

public sealed class SignInPage : AdminPage
{
    public string Email { get; init; } = "";

    public string ReturnUrl { get; init; } = "";

    public string? Problem { get; init; }
}

/// <summary>An edition's ledger as the stacked bar shows it.</summary>
public sealed record LedgerProgress(IReadOnlyDictionary<string, long> Counts)
{
    /// <summary>The bar's segments, in this order; "pending" includes rows being sent.</summary>
    public static readonly IReadOnlyList<string> Segments = [DeliveryState.Sent, DeliveryState.Deferred, DeliveryState.Failed, DeliveryState.Skipped, DeliveryState.Pending];

    public long Count(string segment) => segment == DeliveryState.Pending
        ? Counts.GetValueOrDefault(DeliveryState.Pending) + Counts.GetValueOrDefault(DeliveryState.Sending)
        : Counts.GetValueOrDefault(segment);

    public long Total => Segments.Sum(Count);

    /// <summary>Rows with an outcome (sent, failed, skipped; deferred too: its first round is over), in whole per cent.</summary>
    public int PercentDone => Total == 0 ? 0 : (int)Math.Floor(100.0 * (Total - Count(DeliveryState.Pending)) / Total);
}

public sealed record EditionSummaryLine(string Slug, string Title, IReadOnlyList<string> Topics);

public sealed record EditionCard(string Month, string MonthName, string Status, long SummaryCount, IReadOnlyList<EditionSummaryLine> Summaries,
    LedgerProgress Progress, string? Note, SendJobView? LastJob)
{
    /// <summary>The bar follows the ledger live: while the edition is sending, and always on the edition's own page.</summary>
    public bool Live { get; init; } = Status == EditionStatus.Sending || LastJob is { Running: true };
}

public sealed class EditionsPage : AdminPage
{
    public required IReadOnlyList<EditionCard> Editions { get; init; }
}

public sealed record ProblemRecipient(long? SubscriberId, string? Email, string State, string? Reply, DateTimeOffset UpdatedAt);

public sealed class EditionPage : AdminPage
{
    public required EditionCard Edition { get; init; }

    public required IReadOnlyList<FailureReason> TopReasons { get; init; }

    public required IReadOnlyList<ProblemRecipient> Problems { get; init; }

    /// <summary>Messages per minute over the send, as server-drawn SVG (empty before the first message).</summary>
    public required string RateChart { get; init; }

    public DateTimeOffset? NextRetryAt { get; init; }

    public bool Locked => EditionStatus.IsLocked(Edition.Status);
}

/// <summary>The step before a send: what will happen, to how many.</summary>
public sealed class ConfirmPage : AdminPage
{
    public required string Month { get; init; }

    public required string Heading { get; init; }

    public required string Explanation { get; init; }

    public required string Action { get; init; }

    public required string Button { get; init; }

    public IReadOnlyList<(string Name, string Value)> Fields { get; init; } = [];

    public required string CancelHref { get; init; }
}

public sealed class PreviewPage : AdminPage
{
    public required string Month { get; init; }

    public required string MonthName { get; init; }

    public string Email { get; init; } = "";

    /// <summary>The frame's address, when there is a digest to show.</summary>
    public string? FrameSource { get; init; }

    public string? Problem { get; init; }
}

public sealed class AuditPage : AdminPage
{
    public required IReadOnlyList<AuditEntry> Entries { get; init; }

    public required long Total { get; init; }

    public required int Offset { get; init; }

    public required int Limit { get; init; }
}

public sealed record ContentEdition(string Month, string MonthName, string Status, IReadOnlyList<EditionSummaryLine> Summaries)
{
    public bool Locked => EditionStatus.IsLocked(Status);
}

public sealed class ContentPage : AdminPage
{
    public required IReadOnlyList<ContentEdition> Editions { get; init; }

    /// <summary>Every problem of a refused upload, one line each (file and line first).</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];
}

/// <summary>The fields of one summary as the form shows and posts them.</summary>
public sealed record SummaryFields(string Slug, string Title, string Month, string Order, IReadOnlySet<string> TopicSlugs,
    string Citation, string ResearchType, string Body, string Implications);

public sealed class SummaryFormPage : AdminPage
{
    /// <summary>The slug of the stored summary being edited; null for a new one.</summary>
    public string? Editing { get; init; }

    public required SummaryFields Fields { get; init; }

    public required IReadOnlyList<Topic> Topics { get; init; }

    /// <summary>The summary's edition is being sent or was sent: shown, not editable.</summary>
    public bool ReadOnly { get; init; }

    public IReadOnlyList<string> Problems { get; init; } = [];

    public string? BodyPreview { get; init; }

    public string? ImplicationsPreview { get; init; }

    public string Action => Editing is null ? "/admin/content/summaries/new" : $"/admin/content/summaries/{Editing}";
}

public sealed record SubscriberLine(long Id, string Email, string Name, string Status, string Topics, DateTimeOffset CreatedAt);

public sealed class SubscribersPage : AdminPage
{
    public required IReadOnlyList<SubscriberLine> Subscribers { get; init; }

    public required int Total { get; init; }

    public required IReadOnlyDictionary<string, long> CountsByStatus { get; init; }

    public required string TopicChart { get; init; }

    public required IReadOnlyList<Topic> Topics { get; init; }

    public string Search { get; init; } = "";

    public string Status { get; init; } = "";

    public string Topic { get; init; } = "";

    public required int Offset { get; init; }

    public required int Limit { get; init; }

    public IReadOnlyList<string> Problems { get; init; } = [];
}

public sealed class SubscriberPage : AdminPage
{
    public required Subscriber Subscriber { get; init; }

    public required IReadOnlyList<Topic> Topics { get; init; }

    public required IReadOnlyList<ConsentRecord> Events { get; init; }

    public bool IsSelected(Topic topic) => Subscriber.AllTopics || Subscriber.TopicIds.Contains(topic.Id);
}
