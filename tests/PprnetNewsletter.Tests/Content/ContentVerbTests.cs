using PprnetNewsletter.Content;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Content.ContentFixtures;

namespace PprnetNewsletter.Tests.Content;

/// <summary>
/// The verbs as an operator runs them: the built pprnet binary in its own process, configured through
/// PPRNET_ environment variables set on that process only.
/// </summary>
public class ContentVerbTests
{
    sealed record Run(int ExitCode, string Out, string Error);

    static async Task<Run> PprnetAsync(TestApp test, params string[] args)
    {
        // The sample folder is configured so that a verb importing it on its own (only the service may) would show.
        var run = await PprnetProcess.RunAsync(test, new Dictionary<string, string?> { ["Content:FirstStartFolder"] = SampleFolder }, args);
        return new Run(run.ExitCode, run.Out, run.Error);
    }

    [Fact]
    public async Task Import_of_the_sample_content_prints_what_it_did()
    {
        await using var test = await TestApp.CreateAsync();

        var run = await PprnetAsync(test, "import", SampleFolder);

        Assert.Equal((0, ""), (run.ExitCode, run.Error));
        Assert.Equal("Imported 6 summaries (6 new, 0 updated) into 3 editions: 2022-12 (1), 2023-01 (3), 2023-03 (2)", run.Out.Trim());
        Assert.Equal(6, await test.CountAsync("summaries"));
    }

    [Fact]
    public async Task Import_of_a_folder_with_an_unknown_topic_exits_2_names_file_topic_and_close_matches_and_changes_nothing()
    {
        await using var test = await TestApp.CreateAsync();
        await test.Get<SummaryImporter>().ImportAsync(SampleFolder);
        var before = await test.SnapshotAsync();
        var folder = test.WriteFolder(("good.md", Summary()), ("2023-05/typo.md", Summary(topics: "topics: [Empathy, Therapist Factor]")));

        var run = await PprnetAsync(test, "import", folder);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Out);
        Assert.Contains("2023-05/typo.md (line 4): unknown topic 'Therapist Factor': the closest known topic is 'Therapist Factors' ('pprnet topics' lists them all)", run.Error);
        Assert.Equal(before, await test.SnapshotAsync());
    }

    [Fact]
    public async Task Topics_prints_slug_and_name_of_all_36()
    {
        await using var test = await TestApp.CreateAsync();

        var run = await PprnetAsync(test, "topics");

        Assert.Equal(0, run.ExitCode);
        var lines = run.Out.TrimEnd().Split('\n');
        Assert.Equal(36, lines.Length);
        Assert.Contains(lines, l => l.StartsWith("trauma-and-or-ptsd ", StringComparison.Ordinal) && l.EndsWith("  Trauma and/or PTSD", StringComparison.Ordinal));
        Assert.Equal(0, await test.CountAsync("summaries"));
    }
}
