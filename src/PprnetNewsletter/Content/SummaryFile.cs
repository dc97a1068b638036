using System.Globalization;
using System.Text.RegularExpressions;
using Markdig.Syntax;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PprnetNewsletter.Content;

/// <summary>A summary read from its file, validated and rendered, ready to be stored.</summary>
public sealed record SummaryDraft(
    string Slug,
    string Month,
    int? Order,
    string Title,
    string? Citation,
    string? ResearchType,
    RenderedMarkdown Body,
    RenderedMarkdown Implications,
    IReadOnlyList<long> TopicIds,
    string SourceFile)
{
    /// <summary>The cited article's address (from <c>doi:</c> or <c>url:</c>), or null.</summary>
    public string? Link { get; init; }

    /// <summary>True when a subscriber would see no difference (where the file lives does not count).</summary>
    public bool SameContentAs(SummaryDraft other) =>
        (Month, Order, Title, Citation, ResearchType, Body, Implications, Link) ==
        (other.Month, other.Order, other.Title, other.Citation, other.ResearchType, other.Body, other.Implications, other.Link)
        && TopicIds.Order().SequenceEqual(other.TopicIds.Order());
}

/// <summary>Something to fix in one file; <see cref="Line"/> is the file's line number where known.</summary>
public sealed record ImportProblem(string File, int? Line, string Message)
{
    public override string ToString() => Line is null ? $"{File}: {Message}" : $"{File} (line {Line}): {Message}";
}

/// <summary>
/// Reads one summary file: YAML front matter between two "---" lines, then the summary in Markdown with a
/// "## Practice Implications" section. Collects every problem in the file rather than stopping at the first.
/// </summary>
public sealed partial class SummaryFile
{
    public static readonly IReadOnlyList<string> Fields = ["title", "month", "topics", "citation", "research_type", "slug", "order", "doi", "url"];

    readonly string _file;
    readonly List<ImportProblem> _problems = [];

    SummaryFile(string file) => _file = file;

    /// <summary>
    /// Parses <paramref name="text"/>, the content of the file shown to the author as <paramref name="file"/>.
    /// Returns the draft, or null with the problems.
    /// </summary>
    public static async Task<(SummaryDraft? Draft, IReadOnlyList<ImportProblem> Problems)> ParseAsync(
        string text, string file, TopicCatalog topics)
    {
        var reader = new SummaryFile(file);
        var draft = await reader.ReadAsync(text.Replace("\r\n", "\n"), topics);
        return reader._problems.Count == 0 ? (draft, []) : (null, reader._problems);
    }

    void Problem(string message, int? line = null) => _problems.Add(new ImportProblem(_file, line, message));

    async Task<SummaryDraft?> ReadAsync(string text, TopicCatalog topics)
    {
        var lines = text.Split('\n');
        if (lines[0].TrimEnd() != "---")
        {
            Problem("has no front matter: start the file with a line '---', then the fields (title:, month:, topics:), then a line '---'", 1);
            return null;
        }
        var close = Array.FindIndex(lines, 1, l => l.TrimEnd() is "---" or "...");
        if (close < 0)
        {
            Problem("the front matter is not closed: add a line '---' after its last field", 1);
            return null;
        }
        var fields = ReadFields(string.Join('\n', lines[1..close]), firstLine: 2);
        var body = ReadBody(string.Join('\n', lines[(close + 1)..]), firstLine: close + 2);
        if (fields is null)
        {
            return null;
        }

        var title = Text(fields, "title", required: "add 'title: <the summary's title>' to the front matter");
        var month = Text(fields, "month", required: "add 'month: YYYY-MM' (the edition's month, e.g. 2023-03) to the front matter");
        if (month is not null && !MonthNames.TryParse(month, out _))
        {
            Problem($"month '{month}' is not a month in the form YYYY-MM: write it like 'month: 2023-03'", LineOf(fields, "month"));
        }
        var topicIds = await TopicsAsync(fields, topics);
        var slug = Text(fields, "slug", required: null) ?? Path.GetFileNameWithoutExtension(_file);
        if (!SlugPattern().IsMatch(slug))
        {
            var how = fields.ContainsKey("slug") ? "write it" : "rename the file, or add a line";
            Problem($"slug '{slug}' may only contain lower-case letters, digits and single hyphens: {how} 'slug: {Slugify(slug)}'",
                LineOf(fields, "slug"));
        }
        var order = Order(fields);
        var link = ArticleLink(fields);
        if (_problems.Count > 0 || body is null)
        {
            return null;
        }
        return new SummaryDraft(slug, month!, order, title!, Text(fields, "citation", required: null),
            Text(fields, "research_type", required: null), body.Value.Summary, body.Value.Implications, topicIds, _file) { Link = link };
    }

    /// <summary>The front matter's fields by name, or null when it is not a set of fields at all.</summary>
    Dictionary<string, (YamlNode Value, int Line)>? ReadFields(string yaml, int firstLine)
    {
        if (SummaryInputGuards.TooDeepYaml(yaml) is { } deep)
        {
            Problem($"the front matter nests lists or brackets more than {SummaryInputGuards.MaxYamlDepth} levels deep: " +
                "its fields are plain values and one list of topics, like 'topics: [Empathy, Training]'", firstLine + deep - 1);
            return null;
        }
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            // Most syntax errors come from a plain value that YAML reads as structure; a duplicate key needs no hint.
            var hint = e is SyntaxErrorException or SemanticErrorException
                ? ": a value that contains ': ' or ' #', or starts with a quote, '[', '{', '*', '&', '!', '%' or '@', must be put in double quotes"
                : "";
            Problem($"the front matter is not valid YAML ({e.Message.TrimEnd('.')}){hint}", firstLine + (int)e.Start.Line - 1);
            return null;
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode mapping)
        {
            Problem("the front matter must be fields, one per line, like 'title: ...', 'month: 2023-03', 'topics: [...]'", firstLine);
            return null;
        }
        var fields = new Dictionary<string, (YamlNode, int)>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            var line = firstLine + (int)keyNode.Start.Line - 1;
            if (Fields.Contains(key))
            {
                fields[key] = (value, line);
            }
            else
            {
                var typo = Closest.Typo(key, Fields);
                Problem(typo is not null
                    ? $"unknown field '{key}': did you mean '{typo}'?"
                    : $"unknown field '{key}': the fields are {string.Join(", ", Fields)}", line);
            }
        }
        return fields;
    }

    static int? LineOf(Dictionary<string, (YamlNode Value, int Line)> fields, string key) =>
        fields.TryGetValue(key, out var field) ? field.Line : null;

    /// <summary>A single-line text field, trimmed; null (with a problem if <paramref name="required"/> says how to fix it) when absent or empty.</summary>
    string? Text(Dictionary<string, (YamlNode Value, int Line)> fields, string key, string? required)
    {
        if (!fields.TryGetValue(key, out var field))
        {
            if (required is not null)
            {
                Problem($"{key} is missing: {required}");
            }
            return null;
        }
        if (field.Value is not YamlScalarNode scalar)
        {
            Problem($"{key} must be a single piece of text, not a list or a set of fields", field.Line);
            return null;
        }
        var value = scalar.Value?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            if (required is not null)
            {
                Problem($"{key} is empty: {required}", field.Line);
            }
            return null;
        }
        return value;
    }

    /// <summary>
    /// The cited article's address: <c>doi: 10.1037/cou0000561</c> (also written <c>https://doi.org/10...</c> or
    /// <c>doi:10...</c>) becomes its doi.org link; <c>url:</c> must be a full http(s) address, as links in the text.
    /// </summary>
    string? ArticleLink(Dictionary<string, (YamlNode Value, int Line)> fields)
    {
        var doi = Text(fields, "doi", required: null);
        var url = Text(fields, "url", required: null);
        if (doi is not null && url is not null)
        {
            Problem("give the article's doi or its url, not both", LineOf(fields, "url"));
            return null;
        }
        if (doi is not null)
        {
            var bare = DoiPrefix().Replace(doi, "");
            if (!DoiPattern().IsMatch(bare))
            {
                Problem($"doi '{doi}' is not a DOI: write it like 'doi: 10.1037/cou0000561'", LineOf(fields, "doi"));
                return null;
            }
            return "https://doi.org/" + string.Join('/', bare.Split('/').Select(Uri.EscapeDataString));
        }
        if (url is null)
        {
            return null;
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.Host.Length == 0)
        {
            Problem($"url '{url}' is not a full web address: write it like 'url: https://example.org/article'", LineOf(fields, "url"));
            return null;
        }
        return uri.AbsoluteUri;
    }

    int? Order(Dictionary<string, (YamlNode Value, int Line)> fields)
    {
        var text = Text(fields, "order", required: null);
        if (text is null)
        {
            return null;
        }
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var order) && order >= 1)
        {
            return order;
        }
        Problem($"order '{text}' is not a whole number of 1 or more: write the summary's place in its month, like 'order: 1'", LineOf(fields, "order"));
        return null;
    }

    async Task<IReadOnlyList<long>> TopicsAsync(Dictionary<string, (YamlNode Value, int Line)> fields, TopicCatalog topics)
    {
        const string how = "list at least one topic, like 'topics: [Empathy, Training]' (names or slugs; 'pprnet topics' lists them)";
        if (!fields.TryGetValue("topics", out var field))
        {
            Problem($"topics is missing: {how}");
            return [];
        }
        var names = field.Value switch
        {
            YamlSequenceNode sequence => sequence.Children.Select(n => (n as YamlScalarNode)?.Value?.Trim() ?? "").ToList(),
            YamlScalarNode scalar => [scalar.Value?.Trim() ?? ""],
            _ => [],
        };
        names.RemoveAll(n => n.Length == 0);
        if (names.Count == 0)
        {
            Problem($"topics is empty: {how}", field.Line);
            return [];
        }

        var ids = new List<long>();
        for (var i = 0; i < names.Count; i++)
        {
            if (await topics.FindAsync(names[i]) is { } topic)
            {
                ids.Add(topic.Id);
                continue;
            }
            // "[Attendance, Attrition, and Drop-Out]" reads as three topics: say so rather than report three unknowns.
            var joined = await CommaSplitNameAsync(names, i, topics);
            if (joined is not null)
            {
                Problem($"topic '{joined.Value.Name}' contains commas, so inside [ ] it must be in double quotes: \"{joined.Value.Name}\"", field.Line);
                i = joined.Value.LastIndex;
                continue;
            }
            var closest = await topics.ClosestAsync(names[i]);
            var near = closest.Count switch
            {
                0 => "no known topic is close to it",
                1 => $"the closest known topic is '{closest[0].Name}'",
                _ => $"the closest known topics are {string.Join(", ", closest.Select(t => $"'{t.Name}'"))}",
            };
            Problem($"unknown topic '{names[i]}': {near} ('pprnet topics' lists them all)", field.Line);
        }
        return ids.Distinct().ToList();
    }

    static async Task<(string Name, int LastIndex)?> CommaSplitNameAsync(List<string> names, int start, TopicCatalog topics)
    {
        var name = names[start];
        for (var j = start + 1; j < names.Count; j++)
        {
            name += ", " + names[j];
            if (await topics.FindAsync(name) is { } topic)
            {
                return (topic.Name, j);
            }
        }
        return null;
    }

    /// <summary>The body split at its "## Practice Implications" heading, both parts rendered; null after a problem.</summary>
    (RenderedMarkdown Summary, RenderedMarkdown Implications)? ReadBody(string body, int firstLine)
    {
        try
        {
            return ReadCheckedBody(body, firstLine);
        }
        catch (Exception e) when (e is ArgumentException or InsufficientExecutionStackException)
        {
            // Markdig's own limit (128 levels) for a shape of nesting the line check above does not foresee.
            Problem($"the Markdown nests too deeply for an email ({e.Message.TrimEnd('.')}): flatten its quotes, lists or emphasis");
            return null;
        }
    }

    (RenderedMarkdown Summary, RenderedMarkdown Implications)? ReadCheckedBody(string body, int firstLine)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            Problem("has no text after the front matter: write the summary, then a line '## Practice Implications' and the implications");
            return null;
        }
        if (SummaryInputGuards.TooDeepMarkdown(body) is { } deep)
        {
            Problem($"the Markdown nests quotes, lists or emphasis more than {SummaryInputGuards.MaxMarkdownDepth} levels deep, " +
                "which no email can show: flatten it", firstLine + deep - 1);
            return null;
        }
        var document = SummaryMarkdown.Parse(body);
        foreach (var url in SummaryMarkdown.UnsafeLinks(document))
        {
            Problem($"link '{url}' cannot go into an email: use a full https://, http:// or mailto: address");
        }
        var headings = SummaryMarkdown.ImplicationsHeadings(document).ToList();
        var level2 = headings.Where(h => h.Level == 2).ToList();
        if (level2.Count == 0)
        {
            if (headings.FirstOrDefault() is { } wrong)
            {
                Problem($"'{new string('#', wrong.Level)} {SummaryMarkdown.ImplicationsHeading}' must be a level-2 heading: write '## {SummaryMarkdown.ImplicationsHeading}'",
                    firstLine + wrong.Line);
            }
            else
            {
                Problem($"has no '## {SummaryMarkdown.ImplicationsHeading}' section: add that heading after the summary, followed by the implications");
            }
            return null;
        }
        if (level2.Count > 1)
        {
            Problem($"has {level2.Count} '## {SummaryMarkdown.ImplicationsHeading}' sections (lines {string.Join(", ", level2.Select(h => firstLine + h.Line))}): keep one");
            return null;
        }

        var heading = level2[0];
        var summary = body[..heading.Span.Start];
        var implications = body[Math.Min(body.Length, heading.Span.End + 1)..];
        var ok = true;
        if (string.IsNullOrWhiteSpace(summary))
        {
            Problem($"the summary is empty: write it between the front matter and '## {SummaryMarkdown.ImplicationsHeading}'");
            ok = false;
        }
        if (string.IsNullOrWhiteSpace(implications))
        {
            Problem($"the '## {SummaryMarkdown.ImplicationsHeading}' section is empty: write the implications under the heading", firstLine + heading.Line);
            ok = false;
        }
        return ok ? (SummaryMarkdown.Render(summary), SummaryMarkdown.Render(implications)) : null;
    }

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex SlugPattern();

    [GeneratedRegex(@"^(https?://(dx\.)?doi\.org/|doi:\s*)", RegexOptions.IgnoreCase)]
    private static partial Regex DoiPrefix();

    [GeneratedRegex(@"^10\.\d{4,9}/\S+$")]
    private static partial Regex DoiPattern();

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NotSlug();

    internal static string Slugify(string text) => NotSlug().Replace(text.ToLowerInvariant(), "-").Trim('-') is { Length: > 0 } slug ? slug : "my-summary";
}
