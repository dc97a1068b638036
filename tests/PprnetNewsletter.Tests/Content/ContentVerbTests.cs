using System.Diagnostics;
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
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = test.Folder,
            Environment =
            {
                ["PPRNET_Storage__Database"] = test.DatabasePath,
                ["PPRNET_Delivery__PickupDirectory"] = test.OutboxPath,
                ["PPRNET_Content__FirstStartFolder"] = SampleFolder,
            },
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pprnet.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        return new Run(process.ExitCode, await output, await error);
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
        Assert.Contains("2023-05/typo.md (line 4): unknown topic 'Therapist Factor': the closest known topics are 'Therapist Factors', ", run.Error);
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
