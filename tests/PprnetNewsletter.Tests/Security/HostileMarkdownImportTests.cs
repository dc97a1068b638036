using System.Text;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Content.ContentFixtures;

namespace PprnetNewsletter.Tests.Security;

/// <summary>
/// The import never crashes: files built to exhaust a parser, and bytes that are not text, end the real process with
/// exit code 2, naming the file and the line (or byte), and nothing is imported. A stack overflow would kill the
/// test host itself, so each file is imported by its own pprnet process.
/// </summary>
public class HostileMarkdownImportTests
{
    const string Implications = "\n\n## Practice Implications\nWhat clinicians can do.";

    public static TheoryData<string, string, string> HostileTexts => new()
    {
        { "quotes.md", Summary(body: "Intro.\n\n" + new string('>', 128) + " deep" + Implications), "quotes.md (line 8): the Markdown nests" },
        { "spaced-quotes.md", Summary(body: string.Concat(Enumerable.Repeat("> ", 200)) + "deep" + Implications), "spaced-quotes.md (line 6): the Markdown nests" },
        { "list.md", Summary(body: string.Join('\n', Enumerable.Range(0, 200).Select(i => new string(' ', 2 * i) + "- level " + i)) + Implications), "list.md (line 38): the Markdown nests" },
        { "one-line-list.md", Summary(body: string.Concat(Enumerable.Repeat("- ", 200)) + "x" + Implications), "one-line-list.md (line 6): the Markdown nests" },
        { "stars.md", Summary(body: "Text " + new string('*', 5000) + " end" + Implications), "stars.md (line 6): the Markdown nests" },
        { "links.md", Summary(body: new string('[', 5000) + "x" + new string(']', 5000) + Implications), "links.md (line 6): the Markdown nests" },
        { "yaml-flow.md", Summary(topics: "topics: " + new string('[', 60_000) + new string(']', 60_000)), "yaml-flow.md (line 4): the front matter nests" },
        { "yaml-maps.md", Summary(topics: "topics: " + string.Concat(Enumerable.Repeat("{a: ", 60_000)) + new string('}', 60_000)), "yaml-maps.md (line 4): the front matter nests" },
        // An apostrophe in a plain value or a comment opens no quoted string: the nesting after it still counts.
        { "yaml-apostrophe.md", Summary(title: "title: Don't stop", topics: "topics: " + new string('[', 60_000) + new string(']', 60_000)), "yaml-apostrophe.md (line 4): the front matter nests" },
        { "yaml-comment.md", Summary(month: "month: 2023-05 # it's May", topics: "topics: " + string.Concat(Enumerable.Repeat("{a: ", 60_000)) + new string('}', 60_000)), "yaml-comment.md (line 4): the front matter nests" },
        { "yaml-escaped-quote.md", Summary(title: "title: \"A \\\" B\"", topics: "topics: " + new string('[', 60_000) + new string(']', 60_000)), "yaml-escaped-quote.md (line 4): the front matter nests" },
        { "yaml-block.md", Summary(extra: "slug: x\n" + string.Concat(Enumerable.Repeat("- ", 60_000)) + "x"), "yaml-block.md (line 6): the front matter" },
    };

    [Theory]
    [MemberData(nameof(HostileTexts))]
    public async Task A_file_built_to_exhaust_a_parser_is_refused_with_exit_2_naming_file_and_line(string name, string text, string expected)
    {
        await using var test = await TestApp.CreateAsync();
        var folder = test.WriteFolder(("good.md", Summary()), (name, text));

        var run = await PprnetProcess.RunAsync(test, new Dictionary<string, string?>(), "import", folder);

        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Error[..Math.Min(2000, run.Error.Length)]}");
        Assert.True(run.Error.Contains(expected, StringComparison.Ordinal), run.Error[..Math.Min(2000, run.Error.Length)]);
        Assert.Equal("", await test.SnapshotAsync());
    }

    public static TheoryData<string, byte[], string> HostileBytes => new()
    {
        { "latin1.md", Bytes(Summary(body: "Caf") , [0xE9], Encoding.UTF8.GetBytes(" au lait." + Implications)), "latin1.md (line 7): is not valid UTF-8 at byte " },
        { "truncated.md", Bytes(Summary(), [0xE2, 0x82]), "truncated.md (line 10): is not valid UTF-8 at byte " },
        { "overlong.md", Bytes("---\ntitle: A", [0xC0, 0xAF], Encoding.UTF8.GetBytes("\n" + Summary()[4..])), "overlong.md (line 2): is not valid UTF-8 at byte 12 (0xC0)" },
        { "nul.md", Bytes(Summary(body: "Nul"), [0x00], Encoding.UTF8.GetBytes(Implications)), "nul.md (line 7): contains a NUL byte at byte 83" },
        { "nul-title.md", Bytes("---\ntitle: A", [0x00], Encoding.UTF8.GetBytes("\n" + Summary()[4..])), "nul-title.md (line 2): contains a NUL byte at byte 12" },
    };

    static byte[] Bytes(string start, params byte[][] rest) => [.. Encoding.UTF8.GetBytes(start), .. rest.SelectMany(b => b)];

    [Theory]
    [MemberData(nameof(HostileBytes))]
    public async Task Bytes_that_are_not_utf8_text_are_refused_with_the_byte_offset(string name, byte[] bytes, string expected)
    {
        await using var test = await TestApp.CreateAsync();
        var folder = test.WriteFolder(("good.md", Summary()));
        await File.WriteAllBytesAsync(Path.Combine(folder, name), bytes);

        var run = await PprnetProcess.RunAsync(test, new Dictionary<string, string?>(), "import", folder);

        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Error}");
        Assert.True(run.Error.Contains(expected, StringComparison.Ordinal), run.Error);
        Assert.Equal("", await test.SnapshotAsync());
    }
}
