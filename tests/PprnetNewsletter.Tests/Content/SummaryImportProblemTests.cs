using PprnetNewsletter.Content;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Content.ContentFixtures;

namespace PprnetNewsletter.Tests.Content;

/// <summary>Every kind of bad file is refused with the file and what to fix, and the database stays as it was.</summary>
public class SummaryImportProblemTests
{
    const string Body = "The summary.\n\n## Practice Implications\nWhat to do.";

    public static TheoryData<string, string, string> BadFiles => new()
    {
        { "no-title.md", Summary(title: ""), "no-title.md: title is missing: add 'title: " },
        { "empty-title.md", Summary(title: "title: \"  \""), "empty-title.md (line 2): title is empty" },
        { "list-title.md", Summary(title: "title: [a, b]"), "list-title.md (line 2): title must be a single piece of text" },
        { "no-month.md", Summary(month: ""), "no-month.md: month is missing: add 'month: YYYY-MM'" },
        { "bad-month.md", Summary(month: "month: March 2023"), "bad-month.md (line 3): month 'March 2023' is not a month in the form YYYY-MM" },
        { "month-13.md", Summary(month: "month: 2023-13"), "month-13.md (line 3): month '2023-13' is not a month in the form YYYY-MM" },
        { "no-topics.md", Summary(topics: ""), "no-topics.md: topics is missing: list at least one topic" },
        { "empty-topics.md", Summary(topics: "topics: []"), "empty-topics.md (line 4): topics is empty" },
        { "unknown-topic.md", Summary(topics: "topics: [Empathy, Depresion]"),
            "unknown-topic.md (line 4): unknown topic 'Depresion': the closest known topic is 'Depression and Depressive Symptoms' ('pprnet topics' lists them all)" },
        { "commas.md", Summary(topics: "topics: [Attendance, Attrition, and Drop-Out]"),
            "commas.md (line 4): topic 'Attendance, Attrition, and Drop-Out' contains commas, so inside [ ] it must be in double quotes" },
        { "unknown-key.md", Summary(extra: "titel: x"), "unknown-key.md (line 5): unknown field 'titel': did you mean 'title'?" },
        { "other-key.md", Summary(extra: "author: x"), "other-key.md (line 5): unknown field 'author': the fields are title, month, topics," },
        { "Bad Name.md", Summary(), "Bad Name.md: slug 'Bad Name' may only contain lower-case letters, digits and single hyphens: rename the file, or add a line 'slug: bad-name'" },
        { "bad-slug.md", Summary(extra: "slug: Not_OK"), "bad-slug.md (line 5): slug 'Not_OK' may only contain" },
        { "bad-order.md", Summary(extra: "order: first"), "bad-order.md (line 5): order 'first' is not a whole number of 1 or more" },
        { "zero-order.md", Summary(extra: "order: 0"), "zero-order.md (line 5): order '0' is not a whole number of 1 or more" },
        { "bad-yaml.md", Summary(title: "title: Therapy: a study"), "bad-yaml.md (line 2): the front matter is not valid YAML" },
        { "twice.md", Summary(extra: "title: Again"), "twice.md (line 5): the front matter is not valid YAML (Duplicate key" },
        { "not-fields.md", "---\njust a sentence\n---\n" + Body, "not-fields.md (line 2): the front matter must be fields" },
        { "no-front-matter.md", "# A Study\n\n" + Body, "no-front-matter.md (line 1): has no front matter" },
        { "unclosed.md", "---\ntitle: A\nmonth: 2023-05\n\n" + Body, "unclosed.md (line 1): the front matter is not closed" },
        { "empty-body.md", Summary(body: "  \n"), "empty-body.md: has no text after the front matter" },
        { "no-implications.md", Summary(body: "Only the summary."), "no-implications.md: has no '## Practice Implications' section" },
        { "wrong-level.md", Summary(body: "Text.\n\n### Practice Implications\nDo."), "wrong-level.md (line 8): '### Practice Implications' must be a level-2 heading" },
        { "two-sections.md", Summary(body: Body + "\n\n## Practice Implications\nMore."), "two-sections.md: has 2 '## Practice Implications' sections (lines 8, 11): keep one" },
        { "empty-implications.md", Summary(body: "Text.\n\n## Practice Implications\n\n"), "empty-implications.md (line 8): the '## Practice Implications' section is empty" },
        { "empty-summary.md", Summary(body: "## Practice Implications\nDo."), "empty-summary.md: the summary is empty" },
        { "script-link.md", Summary(body: "See [this](javascript:alert(1)).\n\n## Practice Implications\nDo."),
            "script-link.md: link 'javascript:alert(1)' cannot go into an email" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task A_bad_file_among_good_ones_imports_nothing_and_says_what_to_fix(string name, string text, string expected)
    {
        await using var test = await TestApp.CreateAsync();
        await test.Get<SummaryImporter>().ImportAsync(SampleFolder);
        var before = await test.SnapshotAsync();
        var folder = test.WriteFolder(("good.md", Summary()), (name, text));

        var e = await Assert.ThrowsAsync<UsageException>(() => test.Get<SummaryImporter>().ImportAsync(folder));

        Assert.Contains(expected, e.Message);
        Assert.StartsWith("Nothing was imported: ", e.Message);
        Assert.DoesNotContain("good.md", e.Message);
        Assert.Equal(before, await test.SnapshotAsync());
    }

    [Fact]
    public async Task Every_problem_of_every_file_is_listed_at_once()
    {
        await using var test = await TestApp.CreateAsync();
        var folder = test.WriteFolder(
            ("good.md", Summary()),
            ("2023-05/first.md", Summary(month: "month: 2023/05", topics: "topics: [Empathy, Nope]")),
            ("2023-05/second.md", Summary(title: "", body: "No implications here.")),
            ("copy-a.md", Summary(extra: "slug: same")),
            ("copy-b.md", Summary(extra: "slug: same")));

        var e = await Assert.ThrowsAsync<UsageException>(() => test.Get<SummaryImporter>().ImportAsync(folder));

        Assert.StartsWith("Nothing was imported: 5 problems in 3 files (of 5 files read).", e.Message);
        Assert.Contains("2023-05/first.md (line 3): month '2023/05' is not", e.Message);
        Assert.Contains("2023-05/first.md (line 4): unknown topic 'Nope'", e.Message);
        Assert.Contains("2023-05/second.md: title is missing", e.Message);
        Assert.Contains("2023-05/second.md: has no '## Practice Implications' section", e.Message);
        Assert.Contains("copy-b.md: slug 'same' is also the slug of copy-a.md", e.Message);
        Assert.Equal(0, await test.CountAsync("summaries"));
        Assert.Equal(0, await test.CountAsync("editions"));
    }

    [Fact]
    public async Task An_unknown_topic_names_only_the_known_topics_that_are_close()
    {
        await using var test = await TestApp.CreateAsync();
        var folder = test.WriteFolder(("study.md", Summary(topics: "topics: [aliance, factor, quantum entanglement]")));

        var e = await Assert.ThrowsAsync<UsageException>(() => test.Get<SummaryImporter>().ImportAsync(folder));

        var problems = e.Message.Split('\n').Where(l => l.Contains("unknown topic", StringComparison.Ordinal)).ToList();
        Assert.Contains(problems, p => p.EndsWith("unknown topic 'aliance': the closest known topic is 'Alliance and Therapeutic Relationship' ('pprnet topics' lists them all)", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.EndsWith("unknown topic 'factor': the closest known topics are 'Client Factors', 'Common Factors', 'Therapist Factors' ('pprnet topics' lists them all)", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.EndsWith("unknown topic 'quantum entanglement': no known topic is close to it ('pprnet topics' lists them all)", StringComparison.Ordinal));
    }
}
