using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace PprnetNewsletter.Digests;

/// <summary>The per-reader values of an email, filled in after the template has rendered.</summary>
public enum Slot
{
    Name,
    Email,
    Topics,
    Unsubscribe,
    Preferences,
    Confirm,
}

/// <summary>
/// Placeholders that survive Razor's HTML encoding and the CSS inliner unchanged (letters and digits only),
/// with a random part per process so no summary text can collide with one.
/// </summary>
public static class Placeholders
{
    static readonly string Prefix = "pprnet" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)) + "slot";

    public static string Of(Slot slot) => $"{Prefix}{(int)slot}x";

    /// <summary>
    /// Splits <paramref name="text"/> at its placeholders: literals[0] slot[0] literals[1] ... literals[n].
    /// </summary>
    internal static (string[] Literals, Slot[] Slots) Split(string text)
    {
        var literals = new List<string>();
        var slots = new List<Slot>();
        var start = 0;
        while (true)
        {
            var at = text.IndexOf(Prefix, start, StringComparison.Ordinal);
            if (at < 0)
            {
                break;
            }
            var digits = at + Prefix.Length;
            var end = text.IndexOf('x', digits);
            literals.Add(text[start..at]);
            slots.Add((Slot)int.Parse(text.AsSpan(digits, end - digits), System.Globalization.CultureInfo.InvariantCulture));
            start = end + 1;
        }
        literals.Add(text[start..]);
        return ([.. literals], [.. slots]);
    }
}

/// <summary>One reader's values for the <see cref="Slot"/>s of an email.</summary>
public sealed class ReaderValues
{
    readonly string[] _values = new string[Enum.GetValues<Slot>().Length];

    public ReaderValues(string name, string email, string topics)
    {
        this[Slot.Name] = CleanName(name);
        this[Slot.Email] = email;
        this[Slot.Topics] = topics;
    }

    public string this[Slot slot]
    {
        get => _values[(int)slot] ?? "";
        set => _values[(int)slot] = value;
    }

    public string Name => this[Slot.Name];

    /// <summary>"Depression and Depressive Symptoms, Training" (alphabetical), or "all topics".</summary>
    public static string DescribeTopics(bool allTopics, IReadOnlyList<long> topicIds, IReadOnlyDictionary<long, string> topicNames)
    {
        if (allTopics)
        {
            return "all topics";
        }
        var names = new List<string>(topicIds.Count);
        foreach (var id in topicIds)
        {
            if (topicNames.TryGetValue(id, out var name))
            {
                names.Add(name);
            }
        }
        names.Sort(StringComparer.Ordinal);
        return string.Join(", ", names);
    }

    /// <summary>
    /// A stored name is whatever someone typed into a form: control characters (CR, LF, tabs) become spaces so
    /// the name stays on one line wherever it is printed.
    /// </summary>
    public static string CleanName(string name)
    {
        var trimmed = name.Trim();
        if (!trimmed.Any(char.IsControl))
        {
            return trimmed;
        }
        var clean = new StringBuilder(trimmed.Length);
        foreach (var c in trimmed)
        {
            var next = char.IsControl(c) ? ' ' : c;
            if (next != ' ' || (clean.Length > 0 && clean[^1] != ' '))
            {
                clean.Append(next);
            }
        }
        return clean.ToString().Trim();
    }
}

/// <summary>A rendered text whose placeholders are replaced per reader: literals and slots, in order.</summary>
sealed class FillIn
{
    readonly string[] _literals;
    readonly Slot[] _slots;
    readonly int _literalLength;

    public FillIn(string rendered)
    {
        (_literals, _slots) = Placeholders.Split(rendered);
        _literalLength = _literals.Sum(l => l.Length);
    }

    public bool HasSlots => _slots.Length > 0;

    /// <summary>The rendered text without any placeholder (only when <see cref="HasSlots"/> is false).</summary>
    public string Literal => _literals[0];

    public int EstimatedLength => _literalLength + (_slots.Length * 64);

    /// <summary>Appends the text with <paramref name="values"/> in place; HTML-escaped when <paramref name="html"/>.</summary>
    public void AppendTo(StringBuilder output, ReaderValues values, bool html)
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            output.Append(_literals[i]);
            var value = values[_slots[i]];
            output.Append(html ? WebUtility.HtmlEncode(value) : value);
        }
        output.Append(_literals[^1]);
    }
}

/// <summary>
/// A plain-text email body ready for readers: lines without placeholders are wrapped once; lines with
/// placeholders are wrapped after their values are in, since a name or a topic list changes their length.
/// </summary>
sealed class PersonalText
{
    readonly List<object> _pieces = []; // string: finished lines; FillIn: one line to fill and wrap
    readonly int _estimatedLength;

    public PersonalText(string rendered)
    {
        var fixedLines = new StringBuilder();
        var previousBlank = true; // also drops blank lines at the start
        foreach (var line in TextWrap.Lines(rendered))
        {
            // Razor leaves blank lines where code was; one blank line between paragraphs is all a reader needs.
            var blank = string.IsNullOrWhiteSpace(line);
            if (blank && previousBlank)
            {
                continue;
            }
            previousBlank = blank;
            var fill = new FillIn(line);
            if (fill.HasSlots)
            {
                Flush();
                _pieces.Add(fill);
            }
            else
            {
                TextWrap.AppendWrapped(fixedLines, line);
            }
        }
        Flush();
        _estimatedLength = _pieces.Sum(p => p is string s ? s.Length : ((FillIn)p).EstimatedLength);

        void Flush()
        {
            if (fixedLines.Length > 0)
            {
                _pieces.Add(fixedLines.ToString());
                fixedLines.Clear();
            }
        }
    }

    public string Fill(ReaderValues values)
    {
        var output = new StringBuilder(_estimatedLength + 256);
        var line = new StringBuilder();
        foreach (var piece in _pieces)
        {
            if (piece is string finished)
            {
                output.Append(finished);
                continue;
            }
            line.Clear();
            ((FillIn)piece).AppendTo(line, values, html: false);
            TextWrap.AppendWrapped(output, line.ToString());
        }
        return output.ToString();
    }
}

/// <summary>An HTML email body with CSS inlined, ready for readers.</summary>
sealed class PersonalHtml(string inlined)
{
    readonly FillIn _fill = new(inlined);

    public string Fill(ReaderValues values)
    {
        var output = new StringBuilder(_fill.EstimatedLength);
        _fill.AppendTo(output, values, html: true);
        return output.ToString();
    }
}
