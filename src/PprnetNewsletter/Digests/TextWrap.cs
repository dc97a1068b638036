using System.Text;

namespace PprnetNewsletter.Digests;

/// <summary>
/// Wraps plain text at 78 columns (RFC 5322's recommendation) at spaces. A word longer than a line (a URL) is
/// never broken: links must stay clickable. List items and indented lines keep their hanging indent.
/// </summary>
public static class TextWrap
{
    public const int Width = 78;

    /// <summary>The lines of <paramref name="text"/>, whatever its line endings.</summary>
    public static IEnumerable<string> Lines(string text)
    {
        var start = 0;
        while (start <= text.Length)
        {
            var end = text.IndexOf('\n', start);
            if (end < 0)
            {
                if (start < text.Length)
                {
                    yield return text[start..].TrimEnd('\r');
                }
                yield break;
            }
            yield return text[start..end].TrimEnd('\r');
            start = end + 1;
        }
    }

    public static string Wrap(string text)
    {
        var output = new StringBuilder(text.Length + (text.Length / Width) + 8);
        foreach (var line in Lines(text))
        {
            AppendWrapped(output, line);
        }
        return output.ToString();
    }

    /// <summary>Appends one line (without its line break), wrapped, each output line ending in "\n".</summary>
    public static void AppendWrapped(StringBuilder output, ReadOnlySpan<char> line)
    {
        line = line.TrimEnd();
        if (line.Length <= Width)
        {
            output.Append(line).Append('\n');
            return;
        }
        var hang = HangingIndent(line);
        var start = 0;
        var first = true;
        while (start < line.Length)
        {
            var room = Width - (first ? 0 : hang);
            if (line.Length - start <= room)
            {
                AppendLine(output, line[start..], first ? 0 : hang);
                break;
            }
            // The last space that keeps the line within width; failing that, the first space after (a long word).
            var breakAt = start + line.Slice(start, room + 1).LastIndexOf(' ');
            if (breakAt <= start || (first && breakAt < hang))
            {
                var after = line[(start + room)..].IndexOf(' ');
                if (after < 0)
                {
                    AppendLine(output, line[start..], first ? 0 : hang);
                    break;
                }
                breakAt = start + room + after;
            }
            AppendLine(output, line[start..breakAt].TrimEnd(), first ? 0 : hang);
            start = breakAt + 1;
            while (start < line.Length && line[start] == ' ')
            {
                start++;
            }
            first = false;
        }
    }

    static void AppendLine(StringBuilder output, ReadOnlySpan<char> text, int indent) =>
        output.Append(' ', indent).Append(text).Append('\n');

    /// <summary>Continuation lines align with the text after a leading indent and a list marker ("- ", "* ", "12. ").</summary>
    static int HangingIndent(ReadOnlySpan<char> line)
    {
        var i = 0;
        while (i < line.Length && line[i] == ' ')
        {
            i++;
        }
        if (i + 1 < line.Length && line[i] is '-' or '*' or '•' && line[i + 1] == ' ')
        {
            return i + 2;
        }
        var digits = i;
        while (digits < line.Length && char.IsAsciiDigit(line[digits]))
        {
            digits++;
        }
        if (digits > i && digits + 1 < line.Length && line[digits] is '.' or ')' && line[digits + 1] == ' ')
        {
            return digits + 2;
        }
        // Keep a hanging indent sensible: never more than a third of the width.
        return Math.Min(i, Width / 3);
    }
}
