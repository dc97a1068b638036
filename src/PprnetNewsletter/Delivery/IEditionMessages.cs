using MimeKit;

namespace PprnetNewsletter.Delivery;

/// <summary>One recipient of an edition, as the delivery ledger knows them.</summary>
public sealed record Recipient(long SubscriberId, string Email, string Name, bool AllTopics, IReadOnlyList<long> TopicIds);

/// <summary>
/// What the sending engine needs from the digest side, and nothing more: an edition prepared once (summaries
/// loaded, templates inlined), then one message per recipient. The engine defines this narrow seam so it can
/// be driven by any message source; the digests feature implements it.
/// </summary>
public interface IEditionMessageFactory
{
    /// <summary>The edition of <paramref name="month"/> (YYYY-MM) ready to compose, or null if there is no such edition.</summary>
    Task<IEditionMessages?> PrepareAsync(string month, CancellationToken ct);
}

public interface IEditionMessages
{
    long EditionId { get; }

    string Month { get; }

    /// <summary>How many summaries the edition has (an edition with none is never sent).</summary>
    int SummaryCount { get; }

    /// <summary>
    /// True when a recipient who chose none of the edition's topics (and not all topics) gets nothing: the ledger
    /// then settles those rows as skipped in its enqueue statement instead of claiming and composing them one by one.
    /// </summary>
    bool SkipsWithoutMatchingTopics { get; }

    /// <summary>
    /// The finished message for <paramref name="recipient"/> (signed, ready to send), or null when nothing in the
    /// edition matches their topics and no "nothing this month" note is configured: the ledger records a skip.
    /// <paramref name="resendCount"/> is 0 for the first send and n for the n-th resend (it changes the Message-ID).
    /// </summary>
    MimeMessage? Compose(Recipient recipient, int resendCount);
}
