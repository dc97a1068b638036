using PprnetNewsletter.Digests;

namespace PprnetNewsletter.Tests.Digests;

public class TextWrapTests
{
    [Fact]
    public void Long_lines_wrap_at_78_columns_at_spaces_and_keep_every_word()
    {
        var text = string.Join(' ', Enumerable.Range(1, 60).Select(i => $"word{i}"));

        var wrapped = TextWrap.Wrap(text);

        var lines = wrapped.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length > 1);
        Assert.All(lines, l => Assert.InRange(l.Length, 1, TextWrap.Width));
        Assert.Equal(text, string.Join(' ', lines));
    }

    [Fact]
    public void A_url_longer_than_a_line_is_never_broken()
    {
        var url = "https://news.example.org/preferences/" + new string('a', 120);
        var wrapped = TextWrap.Wrap($"Manage your subscription: {url} today");

        Assert.Contains("\n" + url + "\n", wrapped);
    }

    [Fact]
    public void List_items_keep_a_hanging_indent()
    {
        var item = "- " + string.Join(' ', Enumerable.Repeat("finding", 20));

        var lines = TextWrap.Wrap(item).TrimEnd('\n').Split('\n');

        Assert.StartsWith("- finding", lines[0]);
        Assert.All(lines.Skip(1), l => Assert.StartsWith("  finding", l));
    }

    [Fact]
    public void Short_lines_and_blank_lines_are_kept_as_they_are()
    {
        Assert.Equal("Hello,\n\nShort line.\n", TextWrap.Wrap("Hello,\r\n\r\nShort line.   \n"));
    }
}
