using PprnetNewsletter.Content;

namespace PprnetNewsletter.Tests.Content;

public class SummaryMarkdownTests
{
    [Fact]
    public void Raw_html_in_a_summary_is_shown_as_text_never_passed_through()
    {
        var rendered = SummaryMarkdown.Render("""
            Before <script>alert(1)</script> and <img src=x onerror="alert(2)">.

            <div onclick="steal()">a block</div>
            """);

        Assert.DoesNotContain("<script", rendered.Html);
        Assert.DoesNotContain("<img", rendered.Html);
        Assert.DoesNotContain("<div", rendered.Html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", rendered.Html);
        Assert.Contains("&lt;div onclick=&quot;steal()&quot;&gt;a block&lt;/div&gt;", rendered.Html);
    }

    [Fact]
    public void Plain_text_keeps_paragraphs_and_lists_drops_emphasis_and_spells_out_links()
    {
        var rendered = SummaryMarkdown.Render("""
            A *gentle* **bold** study with `code`, see [the paper](https://doi.org/10.1000/1) or https://pprnet.ca.
            Write to <mailto:pprnet@example.org>.

            - first point
            - second *point*
              1. nested one
              2. nested two

            > A quote.
            """);

        Assert.Equal("""
            A gentle bold study with code, see the paper (https://doi.org/10.1000/1) or
            https://pprnet.ca. Write to pprnet@example.org.

            - first point
            - second point
              1. nested one
              2. nested two

            > A quote.
            """, rendered.Text);
        Assert.Contains("<a href=\"https://pprnet.ca\">https://pprnet.ca</a>", rendered.Html);
        Assert.Contains("<em>gentle</em>", rendered.Html);
    }

    [Fact]
    public void Long_paragraphs_wrap_at_76_columns_without_breaking_words()
    {
        var words = string.Join(' ', Enumerable.Range(1, 60).Select(i => $"word{i}"));
        var url = "https://example.org/" + new string('a', 90);

        var text = SummaryMarkdown.Render($"{words}\n\n- {words}\n\n{url}").Text;

        var lines = text.Split('\n');
        Assert.All(lines.Where(l => !l.Contains(url, StringComparison.Ordinal)), l => Assert.InRange(l.Length, 0, 76));
        Assert.Equal(words, string.Join(' ', lines.TakeWhile(l => l.Length > 0)));
        Assert.All(lines.SkipWhile(l => !l.StartsWith("- ", StringComparison.Ordinal)).Skip(1).TakeWhile(l => l.Length > 0),
            l => Assert.StartsWith("  word", l));
        Assert.Equal(url, lines[^1]);
    }
}
