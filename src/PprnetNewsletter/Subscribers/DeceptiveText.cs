using System.Globalization;

namespace PprnetNewsletter.Subscribers;

/// <summary>
/// Text that would show a reader something other than what is stored: the rules names and address domains share.
/// <list type="bullet">
/// <item>Bidirectional controls (U+202A–U+202E, U+2066–U+2069) reorder what is displayed; zero-width characters
/// (U+200B–U+200D, U+FEFF) hide inside words. Both are refused.</item>
/// <item>A word (a domain label, or a run of a name between spaces) that mixes Latin letters with Cyrillic or Greek
/// ones is refused: that is the homoglyph trick (a Cyrillic 'а' in "pаypal"). A word wholly in one script is
/// accepted, so a domain written entirely in Cyrillic letters that look Latin is not caught by this rule.</item>
/// </list>
/// </summary>
public static class DeceptiveText
{
    /// <summary>What is deceptive in <paramref name="text"/>, phrased for an error message; null when nothing is.</summary>
    public static string? Problem(string text)
    {
        foreach (var c in text)
        {
            if (IsBidiControl(c))
            {
                return $"it contains an invisible character that reverses the text's direction (U+{(int)c:X4})";
            }
            if (IsZeroWidth(c))
            {
                return $"it contains an invisible zero-width character (U+{(int)c:X4})";
            }
        }
        foreach (var word in text.Split([' ', '.', '\u00A0', '-', '\'', ','], StringSplitOptions.RemoveEmptyEntries))
        {
            if (MixesScripts(word))
            {
                return $"'{word}' mixes Latin letters with Cyrillic or Greek ones, which look alike; write it in one alphabet";
            }
        }
        return null;
    }

    static bool IsBidiControl(char c) => c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069';

    static bool IsZeroWidth(char c) => c is >= '\u200B' and <= '\u200D' or '\uFEFF';

    static bool MixesScripts(string word)
    {
        var latin = false;
        var other = false;
        foreach (var c in word)
        {
            if (!char.IsLetter(c))
            {
                continue;
            }
            latin |= IsLatin(c);
            other |= IsCyrillicOrGreek(c);
        }
        return latin && other;
    }

    static bool IsLatin(char c) => char.IsAsciiLetter(c) || c is >= '\u00C0' and <= '\u024F' or >= '\u1E00' and <= '\u1EFF';

    static bool IsCyrillicOrGreek(char c) =>
        c is >= '\u0370' and <= '\u03FF' or >= '\u1F00' and <= '\u1FFF'                     // Greek
        or >= '\u0400' and <= '\u052F' or >= '\u1C80' and <= '\u1C8F' or >= '\u2DE0' and <= '\u2DFF' or >= '\uA640' and <= '\uA69F'; // Cyrillic

    /// <summary>
    /// The Unicode form of an ASCII domain label: itself, or its punycode ("xn--") decoded; null when the punycode
    /// does not decode to a valid label.
    /// </summary>
    public static string? UnicodeLabel(string asciiLabel)
    {
        if (!asciiLabel.StartsWith("xn--", StringComparison.Ordinal))
        {
            return asciiLabel;
        }
        try
        {
            var unicode = new IdnMapping { UseStd3AsciiRules = true }.GetUnicode(asciiLabel);
            // A label that decodes to plain ASCII was never a valid international label.
            return unicode.All(char.IsAscii) ? null : unicode;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
