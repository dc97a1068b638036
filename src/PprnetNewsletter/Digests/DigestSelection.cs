using PprnetNewsletter.Content;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Digests;

/// <summary>
/// Who gets what: the summaries of an edition that match a reader's topics, in edition order, and the rest
/// for "Also this month". Pure and allocation-free on the hot path (<see cref="MatchMask"/>), so the sending
/// engine can call it for every recipient.
/// </summary>
public static class DigestSelection
{
    /// <summary>Editions are a handful of summaries a month; a 64-bit mask covers any real month.</summary>
    public const int MaxSummariesPerEdition = 64;

    /// <summary>Only confirmed subscribers receive digests: never pending, paused, unsubscribed or bounced ones.</summary>
    public static bool IsEligible(Subscriber subscriber) => subscriber.Status == SubscriberStatus.Confirmed;

    /// <summary>
    /// Bit i is set when summary i of <paramref name="edition"/> has a topic the reader chose (every bit for
    /// "all topics").
    /// </summary>
    public static ulong MatchMask(Edition edition, bool allTopics, IReadOnlyList<long> topicIds)
    {
        var summaries = edition.Summaries;
        if (summaries.Count > MaxSummariesPerEdition)
        {
            throw new InvalidOperationException(
                $"Edition {edition.Month} has {summaries.Count} summaries; a digest holds at most {MaxSummariesPerEdition}.");
        }
        if (allTopics)
        {
            return summaries.Count == MaxSummariesPerEdition ? ulong.MaxValue : (1UL << summaries.Count) - 1;
        }
        var mask = 0UL;
        for (var i = 0; i < summaries.Count; i++)
        {
            if (Intersects(summaries[i].Topics, topicIds))
            {
                mask |= 1UL << i;
            }
        }
        return mask;
    }

    /// <summary>
    /// The digest of <paramref name="subscriber"/>, or null when they are not eligible, or nothing matches and
    /// <paramref name="sendWhenNoMatch"/> is off.
    /// </summary>
    public static Digest? Select(Edition edition, Subscriber subscriber, bool sendWhenNoMatch) =>
        IsEligible(subscriber) ? Select(edition, subscriber.AllTopics, subscriber.TopicIds, sendWhenNoMatch) : null;

    /// <summary>The digest for a reader of these topics (eligibility already established), or null when nothing matches.</summary>
    public static Digest? Select(Edition edition, bool allTopics, IReadOnlyList<long> topicIds, bool sendWhenNoMatch)
    {
        var mask = MatchMask(edition, allTopics, topicIds);
        return mask == 0 && !sendWhenNoMatch ? null : Split(edition, mask);
    }

    /// <summary>The summaries chosen by <paramref name="mask"/>, and the others, both in edition order.</summary>
    public static Digest Split(Edition edition, ulong mask)
    {
        var matches = new List<Summary>();
        var others = new List<Summary>();
        for (var i = 0; i < edition.Summaries.Count; i++)
        {
            ((mask & (1UL << i)) != 0 ? matches : others).Add(edition.Summaries[i]);
        }
        return new Digest(edition, matches, others);
    }

    static bool Intersects(IReadOnlyList<Topic> summaryTopics, IReadOnlyList<long> readerTopicIds)
    {
        foreach (var topic in summaryTopics)
        {
            foreach (var id in readerTopicIds)
            {
                if (topic.Id == id)
                {
                    return true;
                }
            }
        }
        return false;
    }
}

/// <summary>One reader's share of an edition: the matching summaries, and the others for "Also this month".</summary>
public sealed record Digest(Edition Edition, IReadOnlyList<Summary> Matches, IReadOnlyList<Summary> Others)
{
    /// <summary>True for the "nothing on your topics this month" note.</summary>
    public bool IsEmpty => Matches.Count == 0;
}
