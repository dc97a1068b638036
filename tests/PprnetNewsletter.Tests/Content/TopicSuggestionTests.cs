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

    [Theory]
    [InlineData("digest", "digset", 1)]
    [InlineData("ab", "ba", 1)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("", "abc", 3)]
    [InlineData("same", "same", 0)]
    public void Damerau_Levenshtein_counts_a_swap_of_neighbours_as_one_edit(string a, string b, int expected) =>
        Assert.Equal(expected, Closest.Distance(a, b));
}
