using System.Text;
using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace PprnetNewsletter.Content;

/// <summary>A piece of Markdown and the two forms an email needs: HTML and readable plain text.</summary>
public sealed record RenderedMarkdown(string Markdown, string Html, string Text);

/// <summary>
/// Markdown of summaries: one Markdig pipeline for the whole application, splitting off the
/// "Practice Implications" section, and rendering to HTML and to plain text.
/// </summary>
public static class SummaryMarkdown
{
    public const string ImplicationsHeading = "Practice Implications";

    /// <summary>
    /// CommonMark with bare URLs turned into links. Raw HTML is off: a tag typed into a summary is shown as
    /// text, never passed into the email or the archive page.
    /// </summary>
    public static MarkdownPipeline Pipeline { get; } = new MarkdownPipelineBuilder().DisableHtml().UseAutoLinks().Build();

    static readonly string[] AllowedSchemes = ["https", "http", "mailto"];

    public static MarkdownDocument Parse(string markdown) => Markdown.Parse(markdown, Pipeline);

    public static RenderedMarkdown Render(string markdown)
    {
        var trimmed = markdown.Trim();
        var document = Parse(trimmed);
        return new RenderedMarkdown(trimmed, Markdown.ToHtml(document, Pipeline).Trim(), PlainText.Render(document));
    }

    /// <summary>The "## Practice Implications" headings of a document (level 2 or not: the caller tells the author).</summary>
    public static IEnumerable<HeadingBlock> ImplicationsHeadings(MarkdownDocument document) =>
        document.OfType<HeadingBlock>().Where(h =>
            string.Equals(PlainText.Inline(h.Inline).Trim().TrimEnd(':').Trim(), ImplicationsHeading, StringComparison.OrdinalIgnoreCase));

    /// <summary>The addresses of links and images that an email cannot safely carry (not http, https or mailto).</summary>
    public static IEnumerable<string> UnsafeLinks(MarkdownDocument document) =>
        document.Descendants<LinkInline>().Select(l => l.Url ?? "")
            .Concat(document.Descendants<AutolinkInline>().Where(a => !a.IsEmail).Select(a => a.Url))
            .Where(url => !Uri.TryCreate(url, UriKind.Absolute, out var uri) || !AllowedSchemes.Contains(uri.Scheme));
}

/// <summary>
/// Plain text for text/plain emails: paragraphs separated by blank lines and wrapped at 76 columns, bullet
/// lists as "- ", emphasis stripped, links as "text (URL)".
/// </summary>
static class PlainText
{
    const int Width = 76;

    public static string Render(MarkdownDocument document) => string.Join('\n', Children(document, "", "", blankBetween: true));

    static List<string> Children(ContainerBlock container, string first, string rest, bool blankBetween)
    {
        var lines = new List<string>();
        foreach (var child in container.Where(b => b is not LinkReferenceDefinitionGroup))
        {
            if (lines.Count > 0 && blankBetween)
            {
                lines.Add(rest.TrimEnd());
            }
            lines.AddRange(Block(child, lines.Count == 0 ? first : rest, rest));
        }
        return lines;
    }

    static List<string> Block(Block block, string first, string rest)
    {
        switch (block)
        {
            case ListBlock list:
                var lines = new List<string>();
                var number = int.TryParse(list.OrderedStart, out var start) ? start : 1;
                foreach (var item in list.OfType<ListItemBlock>())
                {
                    var marker = list.IsOrdered ? $"{number++}. " : "- ";
                    if (lines.Count > 0 && list.IsLoose)
                    {
                        lines.Add(rest.TrimEnd());
                    }
                    lines.AddRange(Children(item, (lines.Count == 0 ? first : rest) + marker, rest + new string(' ', marker.Length), list.IsLoose));
                }
                return lines;
            case QuoteBlock quote:
                return Children(quote, first + "> ", rest + "> ", blankBetween: true);
            case ContainerBlock container:
                return Children(container, first, rest, blankBetween: true);
            case CodeBlock code:
                // Code keeps its line breaks and spacing; it is indented so it stands apart from the prose.
                return code.Lines.Lines.Take(code.Lines.Count)
                    .Select((line, i) => ((i == 0 ? first : rest) + "    " + line.Slice.ToString()).TrimEnd()).ToList();
            case ThematicBreakBlock:
                return [first + "----"];
            case LeafBlock leaf when leaf.Inline is not null:
                return Wrap(Inline(leaf.Inline), first, rest);
            case LeafBlock leaf:
                return Wrap(leaf.Lines.ToString(), first, rest);
            default:
                return [];
        }
    }

    /// <summary>The text of inline content: emphasis dropped, links as "text (URL)", hard breaks kept as '\n'.</summary>
    public static string Inline(ContainerInline? container)
    {
        var text = new StringBuilder();
        for (var inline = container?.FirstChild; inline is not null; inline = inline.NextSibling)
        {
            text.Append(inline switch
            {
                LiteralInline literal => literal.Content.ToString(),
                CodeInline code => code.Content,
                LineBreakInline lineBreak => lineBreak.IsHard ? "\n" : " ",
                HtmlEntityInline entity => entity.Transcoded.ToString(),
                AutolinkInline autolink => WithoutMailto(autolink.Url),
                LinkInline link => LinkText(link),
                ContainerInline inner => Inline(inner),
                _ => inline.ToString(),
            });
        }
        return text.ToString();
    }

    static string LinkText(LinkInline link)
    {
        var label = Inline(link);
        var url = link.Url ?? "";
        var shown = WithoutMailto(url);
        return link.IsAutoLink || label.Length == 0 || label == url || label == shown ? shown : $"{label} ({shown})";
    }

    static string WithoutMailto(string url) =>
        url.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) ? url["mailto:".Length..] : url;

    /// <summary>Word-wraps each line of <paramref name="text"/>; a word longer than the width (a URL) stays whole.</summary>
    static List<string> Wrap(string text, string first, string rest)
    {
        var lines = new List<string>();
        foreach (var paragraphLine in text.Split('\n'))
        {
            var line = new StringBuilder(lines.Count == 0 ? first : rest);
            var empty = true;
            foreach (var word in paragraphLine.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!empty && line.Length + 1 + word.Length > Width)
                {
                    lines.Add(line.ToString());
                    line.Clear().Append(rest);
                    empty = true;
                }
                line.Append(empty ? "" : " ").Append(word);
                empty = false;
            }
            lines.Add(line.ToString().TrimEnd());
        }
        return lines;
    }
}
