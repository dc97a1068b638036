using PprnetNewsletter.Content;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Content;

public class TopicTaxonomyTests
{
    /// <summary>The blog's topic list, word for word (its 37th line, "ALL Topics (clear)", is a filter reset, not a topic).</summary>
    static readonly string[] BlogTopics =
    [
        "Adherance", "Alliance and Therapeutic Relationship", "Anxiety Disorders", "Attachment",
        "Attendance, Attrition, and Drop-Out", "Client Factors", "Client Preferences",
        "Cognitive Therapy (CT) and Cognitive-Behavioural Therapy (CBT)", "Combination Therapy", "Common Factors",
        "Cost-effectiveness", "Depression and Depressive Symptoms", "Efficacy of Treatments", "Empathy",
        "Feedback and Progress Monitoring", "Group Psychotherapy", "Illness and Medical Comorbidities",
        "Interpersonal Psychotherapy (IPT)", "Long-term Outcomes", "Medications/Pharmacotherapy", "Miscellaneous",
        "Neuroscience and Brain", "Outcomes and Deterioration", "Personality Disorders", "Placebo Effect",
        "Practice-Based Research and Practice Research Networks", "Psychodynamic Therapy (PDT)",
        "Resistance and Reactance", "Self-Reflection and Awareness", "Suicide and Crisis Intervention", "Termination",
        "Therapist Factors", "Training", "Transference and Countertransference", "Trauma and/or PTSD",
        "Treatment Length and Frequency",
    ];

    [Fact]
    public async Task The_taxonomy_is_the_blogs_36_topics_with_unique_url_safe_slugs()
    {
        await using var test = await TestApp.CreateAsync();

        var topics = await test.Get<TopicCatalog>().AllAsync();

        Assert.Equal(36, topics.Count);
        Assert.Equal(BlogTopics, topics.Select(t => t.Name));
        Assert.Equal(36, topics.Select(t => t.Slug).Distinct().Count());
        Assert.All(topics, t => Assert.Matches("^[a-z0-9]+(-[a-z0-9]+)*$", t.Slug));
    }

    [Fact]
    public async Task Topics_are_found_by_name_or_slug_in_any_case()
    {
        await using var test = await TestApp.CreateAsync();
        var catalog = test.Get<TopicCatalog>();

        Assert.Equal("Trauma and/or PTSD", (await catalog.FindAsync(" trauma AND/or ptsd "))?.Name);
        Assert.Equal("Trauma and/or PTSD", (await catalog.FindAsync("Trauma-And-Or-PTSD"))?.Name);
        Assert.Null(await catalog.FindAsync("Trauma"));
        Assert.Equal("Trauma and/or PTSD", (await catalog.ClosestAsync("trauma", 1)).Single().Name);
        Assert.Equal("Cognitive Therapy (CT) and Cognitive-Behavioural Therapy (CBT)", (await catalog.ClosestAsync("cbt", 1)).Single().Name);
        Assert.Equal("Depression and Depressive Symptoms", (await catalog.ClosestAsync("depresion", 1)).Single().Name);
    }
}
