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
    static readonly int SlotCount = Enum.GetValues<Slot>().Length;

    readonly string[] _values = new string[SlotCount];

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

/// <summary>
/// A rendered text whose placeholders are replaced per reader. The fixed parts are kept as UTF-8, ready to
/// become a MIME part's content, so filling in a reader's email is a few copies and no re-encoding.
/// </summary>
sealed class FillIn
{
    readonly byte[][] _literals;
    readonly Slot[] _slots;
    readonly bool _html;

    /// <param name="html">Values are HTML-escaped on the way in; plain text takes them as they are.</param>
    public FillIn(string rendered, bool html)
    {
        var (literals, slots) = Placeholders.Split(rendered);
        _literals = [.. literals.Select(Encoding.UTF8.GetBytes)];
        _slots = slots;
        _html = html;
        Length = _literals.Sum(l => l.Length);
    }

    public bool HasSlots => _slots.Length > 0;

    /// <summary>The length of the fixed parts, in bytes.</summary>
    public int Length { get; }

    public void WriteTo(MemoryStream output, ReaderValues values)
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            output.Write(_literals[i]);
            var value = values[_slots[i]];
            Utf8.Write(output, _html ? WebUtility.HtmlEncode(value) : value);
        }
        output.Write(_literals[^1]);
    }

    /// <summary>The text with <paramref name="values"/> in place, as a string (for a line that is wrapped next).</summary>
    public string Fill(ReaderValues values)
    {
        using var output = new MemoryStream(Length + (_slots.Length * 64));
        WriteTo(output, values);
        return Encoding.UTF8.GetString(output.GetBuffer(), 0, (int)output.Length);
    }
}

static class Utf8
{
    public static void Write(MemoryStream output, string text)
    {
        // Values are names, addresses and links: small enough for the stack.
        const int StackLimit = 1024;
        if (Encoding.UTF8.GetMaxByteCount(text.Length) <= StackLimit)
        {
            Span<byte> buffer = stackalloc byte[StackLimit];
            output.Write(buffer[..Encoding.UTF8.GetBytes(text, buffer)]);
        }
        else
        {
            output.Write(Encoding.UTF8.GetBytes(text));
        }
    }
}

/// <summary>
/// A plain-text email body ready for readers: lines without placeholders are wrapped once; lines with
/// placeholders are wrapped after their values are in, since a name or a topic list changes their length.
/// </summary>
sealed class PersonalText
{
    readonly List<object> _pieces = []; // byte[]: finished lines in UTF-8; FillIn: one line to fill and wrap
    readonly int _length;

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
            var fill = new FillIn(line, html: false);
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
        _length = _pieces.Sum(p => p is byte[] bytes ? bytes.Length : ((FillIn)p).Length + 256);

        void Flush()
        {
            if (fixedLines.Length > 0)
            {
                _pieces.Add(Encoding.UTF8.GetBytes(fixedLines.ToString()));
                fixedLines.Clear();
            }
        }
    }

    /// <summary>The reader's text, UTF-8, positioned at its start.</summary>
    public MemoryStream Fill(ReaderValues values)
    {
        var output = new MemoryStream(_length);
        var wrapped = new StringBuilder();
        foreach (var piece in _pieces)
        {
            if (piece is byte[] finished)
            {
                output.Write(finished);
                continue;
            }
            wrapped.Clear();
            TextWrap.AppendWrapped(wrapped, ((FillIn)piece).Fill(values));
            Utf8.Write(output, wrapped.ToString());
        }
        output.Position = 0;
        return output;
    }
}

/// <summary>An HTML email body with CSS inlined, ready for readers.</summary>
sealed class PersonalHtml(string inlined)
{
    readonly FillIn _fill = new(inlined, html: true);

    /// <summary>The reader's HTML, UTF-8, positioned at its start.</summary>
    public MemoryStream Fill(ReaderValues values)
    {
        var output = new MemoryStream(_fill.Length + 1024);
        _fill.WriteTo(output, values);
        output.Position = 0;
        return output;
    }
}
