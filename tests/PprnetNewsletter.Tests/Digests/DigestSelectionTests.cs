using PprnetNewsletter.Content;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Tests.Digests;

public class DigestSelectionTests
{
    static readonly Topic Depression = new(1, "depression", "Depression");
    static readonly Topic Training = new(2, "training", "Training");
    static readonly Topic Empathy = new(3, "empathy", "Empathy");
    static readonly Topic Outcomes = new(4, "outcomes", "Outcomes");

    static readonly Edition March = new(1, "2023-03", "draft", null,
    [
        Summary(1, "first", Depression, Outcomes),
        Summary(2, "second", Training),
        Summary(3, "third", Depression, Training),
    ]);

    static Summary Summary(long id, string slug, params Topic[] topics) =>
        new(id, slug, (int)id, slug, null, null, "", "", "", "", topics);

    static Subscriber Reader(string status = SubscriberStatus.Confirmed, bool all = false, params long[] topics) =>
        new(7, "r@example.org", "R", status, all, topics, DateTimeOffset.UnixEpoch, null);

    [Theory]
    [InlineData(new long[] { 1 }, new[] { "first", "third" }, new[] { "second" })]           // one topic, two summaries
    [InlineData(new long[] { 2 }, new[] { "second", "third" }, new[] { "first" })]
    [InlineData(new long[] { 4 }, new[] { "first" }, new[] { "second", "third" })]           // a summary's second topic
    [InlineData(new long[] { 4, 2 }, new[] { "first", "second", "third" }, new string[0])]   // order is the edition's, not the topics'
    [InlineData(new long[] { 3, 4 }, new[] { "first" }, new[] { "second", "third" })]        // one of two topics matches
    public void Summaries_match_when_any_topic_overlaps_in_edition_order(long[] topics, string[] matches, string[] others)
    {
        var digest = DigestSelection.Select(March, Reader(topics: topics), sendWhenNoMatch: false);

        Assert.NotNull(digest);
        Assert.Equal(matches, digest.Matches.Select(s => s.Slug));
        Assert.Equal(others, digest.Others.Select(s => s.Slug));
    }

    [Fact]
    public void All_topics_gets_every_summary()
    {
        var digest = DigestSelection.Select(March, Reader(all: true), sendWhenNoMatch: false);

        Assert.NotNull(digest);
        Assert.Equal(["first", "second", "third"], digest.Matches.Select(s => s.Slug));
        Assert.Empty(digest.Others);
    }

    [Fact]
    public void No_match_is_no_digest_unless_the_note_is_configured()
    {
        Assert.Null(DigestSelection.Select(March, Reader(topics: 3), sendWhenNoMatch: false));
        Assert.Null(DigestSelection.Select(March, Reader(), sendWhenNoMatch: false)); // no topics at all

        var note = DigestSelection.Select(March, Reader(topics: 3), sendWhenNoMatch: true);
        Assert.NotNull(note);
        Assert.True(note.IsEmpty);
        Assert.Equal(["first", "second", "third"], note.Others.Select(s => s.Slug));
    }

    [Theory]
    [InlineData(SubscriberStatus.Pending)]
    [InlineData(SubscriberStatus.Paused)]
    [InlineData(SubscriberStatus.Unsubscribed)]
    [InlineData(SubscriberStatus.Bounced)]
    public void Only_confirmed_subscribers_are_eligible(string status)
    {
        Assert.Null(DigestSelection.Select(March, Reader(status, all: true), sendWhenNoMatch: true));
        Assert.False(DigestSelection.IsEligible(Reader(status)));
        Assert.True(DigestSelection.IsEligible(Reader()));
    }

    [Fact]
    public void An_edition_without_summaries_matches_nobody()
    {
        var empty = March with { Summaries = [] };
        Assert.Equal(0UL, DigestSelection.MatchMask(empty, allTopics: true, []));
        Assert.Null(DigestSelection.Select(empty, Reader(all: true), sendWhenNoMatch: false));
    }

    [Fact]
    public void The_mask_names_the_matching_positions()
    {
        Assert.Equal(0b101UL, DigestSelection.MatchMask(March, allTopics: false, [1]));
        Assert.Equal(0b111UL, DigestSelection.MatchMask(March, allTopics: true, []));
        Assert.Equal(0b000UL, DigestSelection.MatchMask(March, allTopics: false, [99]));
    }
}
