using PprnetNewsletter.Content;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Content;

/// <summary>"Did you mean" for topics, against the real taxonomy: word by word, typo-tolerant, close matches only.</summary>
public class TopicSuggestionTests
{
    [Theory]
    [InlineData("depresion", "Depression and Depressive Symptoms")]
    [InlineData("Anxity", "Anxiety Disorders")]
    [InlineData("empahty", "Empathy")]                                     // two neighbours swapped: one edit
    [InlineData("aliance", "Alliance and Therapeutic Relationship")]
    [InlineData("trauma-ptsd", "Trauma and/or PTSD")]                      // slug-like, words left out
    [InlineData("cbt", "Cognitive Therapy (CT) and Cognitive-Behavioural Therapy (CBT)")]
    [InlineData("suicde crisis", "Suicide and Crisis Intervention")]
    [InlineData("counter-transference", "Transference and Countertransference")]
    [InlineData("pharmacotherpy", "Medications/Pharmacotherapy")]
    public async Task A_typo_suggests_the_one_topic_it_resembles(string typed, string expected)
    {
        await using var test = await TestApp.CreateAsync();

        var closest = await test.Get<TopicCatalog>().ClosestAsync(typed);

        Assert.Equal([expected], closest.Select(t => t.Name));
    }

    [Fact]
    public async Task A_word_several_topics_share_suggests_each_of_them()
    {
        await using var test = await TestApp.CreateAsync();

        var closest = await test.Get<TopicCatalog>().ClosestAsync("factors");

        Assert.Equal(["Client Factors", "Common Factors", "Therapist Factors"], closest.Select(t => t.Name).Order());
    }

    [Theory]
    [InlineData("quantum entanglement")]
    [InlineData("xyz")]
    [InlineData("and/or")]
    public async Task Nothing_close_suggests_nothing(string typed)
    {
        await using var test = await TestApp.CreateAsync();

        Assert.Empty(await test.Get<TopicCatalog>().ClosestAsync(typed));
    }

    [Fact]
    public async Task A_huge_unknown_topic_is_described_in_memory_proportional_to_its_length()
    {
        // A CSV row or an admin API request may name a 100 KB "topic"; comparing it edit by edit with every word of
        // every topic would build a table of its length times each word's, for every one of them.
        await using var test = await TestApp.CreateAsync();
        var topics = await test.Get<TopicCatalog>().AllAsync();
        var huge = "depression" + new string('x', 100_000);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var closest = Closest.Find(huge, topics, t => [t.Name, t.Slug], 3);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Empty(closest);
        Assert.True(allocated < 20 * huge.Length, $"{allocated:N0} bytes allocated for a {huge.Length:N0}-character topic");
    }

    [Theory]
    [InlineData("digest", "digset", 1)]
    [InlineData("ab", "ba", 1)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("", "abc", 3)]
    [InlineData("same", "same", 0)]
    public void Damerau_Levenshtein_counts_a_swap_of_neighbours_as_one_edit(string a, string b, int expected) =>
        Assert.Equal(expected, Closest.Distance(a, b));
}
