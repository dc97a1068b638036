using PprnetNewsletter.Content;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Content.ContentFixtures;

namespace PprnetNewsletter.Tests.Hosting;

/// <summary>
/// What an operator reads when a command line is wrong, from the built binary in its own process: the message on
/// standard error alone, nothing on standard output, exit code 2.
/// </summary>
public class CommandLineErrorTests
{
    static readonly Dictionary<string, string?> NoConfig = [];

    static Task<PprnetRun> PprnetAsync(TestApp test, params string[] args) => PprnetProcess.RunAsync(test, NoConfig, args);

    static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Theory]
    [InlineData(new[] { "digset", "send", "2023-03" }, "'pprnet' has no verb 'digset'. Did you mean 'pprnet digest'?")]
    [InlineData(new[] { "digest", "sned", "2023-03" }, "'pprnet digest' has no verb 'sned'. Did you mean 'pprnet digest send'?")]
    [InlineData(new[] { "subscribres", "list" }, "'pprnet' has no verb 'subscribres'. Did you mean 'pprnet subscribers'?")]
    public async Task A_misspelled_verb_gets_one_line_with_the_verb_it_resembles(string[] args, string expected)
    {
        await using var test = await TestApp.CreateAsync();

        var run = await PprnetAsync(test, args);

        Assert.Equal((2, ""), (run.ExitCode, run.Out));
        var lines = Lines(run.Error);
        Assert.StartsWith(expected, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("Unrecognized", run.Error, StringComparison.Ordinal);
        Assert.Equal(2, lines.Length);   // the line, then where to find usage
    }

    [Fact]
    public async Task A_word_that_resembles_no_verb_lists_the_verbs_without_a_guess()
    {
        await using var test = await TestApp.CreateAsync();

        var run = await PprnetAsync(test, "frobnicate");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("'pprnet' has no verb 'frobnicate'. Its verbs: serve, topics, import, subscribers, ", run.Error, StringComparison.Ordinal);
        Assert.Contains(" digest, ", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Did you mean", run.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(new[] { "digest", "send" }, "'pprnet digest send' needs <month>: The edition's month, YYYY-MM (e.g. 2023-03).", "Usage: pprnet digest send <month> [options]")]
    [InlineData(new[] { "digest", "status" }, "'pprnet digest status' needs <month>: The edition's month, YYYY-MM (e.g. 2023-03).", "Usage: pprnet digest status <month>")]
    [InlineData(new[] { "import" }, "'pprnet import' needs <PATH>: ", "Usage: pprnet import <PATH>")]
    public async Task A_missing_argument_is_named_with_what_it_is_and_the_usage(string[] args, string needs, string usage)
    {
        await using var test = await TestApp.CreateAsync();

        var run = await PprnetAsync(test, args);

        Assert.Equal((2, ""), (run.ExitCode, run.Out));
        var lines = Lines(run.Error);
        Assert.StartsWith(needs, lines[0], StringComparison.Ordinal);
        Assert.StartsWith(usage, lines[1], StringComparison.Ordinal);
        Assert.DoesNotContain("Required argument missing", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_group_of_verbs_alone_lists_its_verbs()
    {
        await using var test = await TestApp.CreateAsync();

        var run = await PprnetAsync(test, "digest");

        Assert.Equal((2, ""), (run.ExitCode, run.Out));
        Assert.StartsWith("'pprnet digest' needs a verb: preview, send, resend, status.", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_filter_of_subscribers_list_prints_nothing_on_standard_output()
    {
        await using var test = await TestApp.CreateAsync();

        var run = await PprnetAsync(test, "subscribers", "list", "--status", "active");

        Assert.Equal((2, ""), (run.ExitCode, run.Out));
        Assert.Equal("Unknown status 'active'; use one of pending, confirmed, paused, unsubscribed, bounced.", run.Error.Trim());
    }

    [Theory]
    [InlineData("status")]
    [InlineData("send")]
    public async Task A_real_month_without_an_edition_is_told_so_with_the_editions_there_are(string verb)
    {
        await using var test = await TestApp.CreateAsync();
        await test.Get<SummaryImporter>().ImportAsync(SampleFolder);

        var run = await PprnetAsync(test, "digest", verb, "2024-05");

        Assert.Equal((2, ""), (run.ExitCode, run.Out));
        Assert.StartsWith("There is no 2024-05 edition. Existing editions: 2022-12, 2023-01, 2023-03. To make it, import its summaries: pprnet import FOLDER",
            run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("YYYY-MM", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_month_that_is_not_a_month_is_told_how_to_write_it()
    {
        await using var test = await TestApp.CreateAsync();

        var run = await PprnetAsync(test, "digest", "status", "2024-13");

        Assert.Equal((2, ""), (run.ExitCode, run.Out));
        Assert.Equal("\"2024-13\" is not a month; write it as YYYY-MM, e.g. 2023-03.", run.Error.Trim());
    }

    [Fact]
    public async Task The_suggested_import_names_the_binarys_own_sample_folder_and_works_from_any_directory()
    {
        await using var test = await TestApp.CreateAsync();
        // The build carries the sample summaries beside the binary, as a publish does.
        var samples = Path.Combine(AppContext.BaseDirectory, "content", "2023-03");
        Assert.True(File.Exists(Path.Combine(samples, "capacity-to-mentalize.md")), $"no sample summaries in {samples}");

        var first = await PprnetAsync(test, "digest", "status", "2023-03");

        Assert.Equal(2, first.ExitCode);
        Assert.Contains("There are no editions yet.", first.Error, StringComparison.Ordinal);
        Assert.Contains($"pprnet import \"{samples}\"", first.Error, StringComparison.Ordinal);

        // The process runs in the test's own folder, far from the binary: the suggested command works as it is.
        var import = await PprnetAsync(test, "import", samples);
        Assert.Equal((0, ""), (import.ExitCode, import.Error));
        var status = await PprnetAsync(test, "digest", "status", "2023-03");
        Assert.Equal(0, status.ExitCode);
        Assert.StartsWith("Edition 2023-03: draft, 2 summaries", status.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Counts_of_one_are_singular()
    {
        await using var test = await TestApp.CreateAsync();
        await test.Get<SummaryImporter>().ImportAsync(SampleFolder);
        await test.Get<ISubscriberStore>().AddAsync(new NewSubscriber("ann@example.org", "Ann", TopicSelection.All), ConsentContext.Admin);

        var status = await PprnetAsync(test, "digest", "status", "2022-12");
        var list = await PprnetAsync(test, "subscribers", "list");

        Assert.StartsWith("Edition 2022-12: draft, 1 summary", status.Out, StringComparison.Ordinal);
        Assert.EndsWith("1 subscriber", list.Out.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Digest_send_prints_its_progress_line_once_when_nothing_holds_it_back()
    {
        await using var test = await TestApp.CreateAsync();
        await test.Get<SummaryImporter>().ImportAsync(SampleFolder);
        await test.Get<ISubscriberStore>().AddAsync(new NewSubscriber("ann@example.org", "Ann", TopicSelection.All), ConsentContext.Admin);

        var run = await PprnetAsync(test, "digest", "send", "2023-03");

        Assert.Equal(0, run.ExitCode);
        var progress = Lines(run.Error).Where(l => l.StartsWith("2023-03: ", StringComparison.Ordinal)).ToList();
        Assert.Equal("2023-03: 1 sent, 0 failed, 0 deferred, 0 skipped, 0 remaining", Assert.Single(progress)[..61]);
    }
}
