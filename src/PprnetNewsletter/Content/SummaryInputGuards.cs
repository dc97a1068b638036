using System.Text;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace PprnetNewsletter.Content;

/// <summary>
/// What a summary file is checked for before any parser sees it: bytes that are not UTF-8, NUL bytes, and nesting
/// deep enough to exhaust a parser (YamlDotNet's document loader recurses once per level of a collection, and a
/// stack overflow cannot be caught; Markdig refuses 128 levels with an exception). Each problem names its line.
/// </summary>
public static class SummaryInputGuards
{
    /// <summary>Deeper than this, YAML front matter is refused: its fields are plain values and one list.</summary>
    public const int MaxYamlDepth = 8;

    /// <summary>Deeper than this (quotes, lists, emphasis), Markdown is refused: no summary needs it, and Markdig stops at 128.</summary>
    public const int MaxMarkdownDepth = 32;

    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The text of a file's bytes (a UTF-8 byte order mark is dropped), or null with the line and the problem.</summary>
    public static (string? Text, int? Line, string? Problem) Decode(ReadOnlySpan<byte> bytes)
    {
        var start = bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        var nul = bytes.IndexOf((byte)0);
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes[start..]);
        }
        catch (DecoderFallbackException e)
        {
            var offset = start + Math.Max(0, e.Index);
            if (nul < 0 || offset < nul)
            {
                return (null, LineAt(bytes, offset), $"is not valid UTF-8 at byte {offset} (0x{bytes[offset]:X2}): save the file as UTF-8");
            }
            text = "";
        }
        return nul >= 0
            ? (null, LineAt(bytes, nul), $"contains a NUL byte at byte {nul}: a summary is plain text; remove it")
            : (text, null, null);
    }

    static int LineAt(ReadOnlySpan<byte> bytes, int offset) => bytes[..offset].Count((byte)'\n') + 1;

    /// <summary>The first line (1-based, within <paramref name="yaml"/>) where flow or block collections nest deeper than <see cref="MaxYamlDepth"/>.</summary>
    /// <remarks>
    /// The depth is read from YamlDotNet's event parser, which keeps its nesting on a heap stack and reads only as far
    /// as asked: so quotes, escapes and comments are understood exactly as the loader will understand them, and a deep
    /// file is stopped after its first few levels. (A hand-written scanner was fooled by an apostrophe in a plain value.)
    /// </remarks>
    public static int? TooDeepYaml(string yaml)
    {
        var parser = new Parser(new StringReader(yaml));
        var depth = 0;
        try
        {
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case SequenceStart or MappingStart:
                        if (++depth > MaxYamlDepth)
                        {
                            return (int)parser.Current.Start.Line;
                        }
                        break;
                    case SequenceEnd or MappingEnd:
                        depth--;
                        break;
                }
            }
        }
        catch (YamlException)
        {
            // Not valid YAML within the allowed depth: the loader that follows reports it, with its line.
        }
        return null;
    }

    /// <summary>
    /// The first line (1-based, within <paramref name="markdown"/>) that nests deeper than <see cref="MaxMarkdownDepth"/>:
    /// quote markers and list markers before its text (or indentation of a nested list), or a run of emphasis or bracket characters.
    /// </summary>
    public static int? TooDeepMarkdown(string markdown)
    {
        var number = 0;
        foreach (var line in markdown.Split('\n'))
        {
            number++;
            if (PrefixDepth(line) > MaxMarkdownDepth || LongestDelimiterRun(line) > MaxMarkdownDepth)
            {
                return number;
            }
        }
        return null;
    }

    /// <summary>Quote markers, list markers and every two columns of indentation before the line's text.</summary>
    static int PrefixDepth(string line)
    {
        var depth = 0;
        var spaces = 0;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == ' ')
            {
                spaces++;
            }
            else if (c == '\t')
            {
                spaces += 4;
            }
            else if (c == '>')
            {
                depth++;
            }
            else if (c is '-' or '*' or '+' && i + 1 < line.Length && line[i + 1] == ' ')
            {
                depth++;
            }
            else if (char.IsAsciiDigit(c))
            {
                var end = i;
                while (end < line.Length && char.IsAsciiDigit(line[end]))
                {
                    end++;
                }
                if (end < line.Length && line[end] is '.' or ')')
                {
                    depth++;
                    i = end;
                }
                else
                {
                    break;
                }
            }
            else
            {
                break;
            }
        }
        return depth + spaces / 2;
    }

    static int LongestDelimiterRun(string line)
    {
        var longest = 0;
        var run = 0;
        var previous = '\0';
        foreach (var c in line)
        {
            run = c is '*' or '_' or '~' or '[' or '`' && c == previous ? run + 1 : c is '*' or '_' or '~' or '[' or '`' ? 1 : 0;
            previous = c;
            longest = Math.Max(longest, run);
        }
        return longest;
    }
}
