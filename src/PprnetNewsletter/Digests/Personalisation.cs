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

/// <summary>A rendered line whose placeholders are replaced per reader, as text (a plain-text line is wrapped next).</summary>
sealed class FillIn
{
    readonly string[] _literals;
    readonly Slot[] _slots;

    public FillIn(string rendered) => (_literals, _slots) = Placeholders.Split(rendered);

    public bool HasSlots => _slots.Length > 0;

    public string Fill(ReaderValues values)
    {
        var text = new StringBuilder(_literals[0]);
        for (var i = 0; i < _slots.Length; i++)
        {
            text.Append(values[_slots[i]]).Append(_literals[i + 1]);
        }
        return text.ToString();
    }
}

/// <summary>
/// An email body ready to become a MIME part's content: quoted-printable segments (see <see cref="QuotedPrintable"/>),
/// the fixed ones encoded once per variant and the reader's own encoded per email, so a message costs a few small
/// encodings and one copy (into the message's <see cref="EncodedAlternative"/>) instead of encoding the whole body
/// again for every reader.
/// </summary>
sealed class EncodedBody
{
    readonly byte[][] _fixed; // _fixed[i] comes before _personal[i]; the last one ends the body
    readonly Func<ReaderValues, string>[] _personal;
    readonly int _fixedLength;

    /// <param name="fixedTexts">The fixed texts, one more than <paramref name="personal"/>: they surround the reader's parts.</param>
    /// <param name="personal">The reader's parts, in order, each a text to encode for every email.</param>
    public EncodedBody(IEnumerable<string> fixedTexts, IEnumerable<Func<ReaderValues, string>> personal)
    {
        _fixed = [.. fixedTexts.Select(QuotedPrintable.Encode)];
        _personal = [.. personal];
        if (_fixed.Length != _personal.Length + 1)
        {
            throw new ArgumentException("A body needs one more fixed text than reader's parts.", nameof(fixedTexts));
        }
        _fixedLength = _fixed.Sum(f => f.Length);
    }

    /// <summary>The reader's parts encoded, ready to be copied between the fixed ones.</summary>
    public Filled Fill(ReaderValues values)
    {
        var personal = new byte[_personal.Length][];
        var length = _fixedLength;
        for (var i = 0; i < personal.Length; i++)
        {
            personal[i] = QuotedPrintable.Encode(_personal[i](values));
            length += personal[i].Length;
        }
        return new Filled(this, personal, length);
    }

    /// <summary>One reader's body, quoted-printable: <see cref="Length"/> octets, written by <see cref="CopyTo"/>.</summary>
    public readonly struct Filled(EncodedBody body, byte[][] personal, int length)
    {
        public int Length => length;

        /// <summary>Writes the body at the start of <paramref name="to"/>; returns <see cref="Length"/>.</summary>
        public int CopyTo(Span<byte> to)
        {
            var at = 0;
            for (var i = 0; i < personal.Length; i++)
            {
                at += Copy(body._fixed[i], to[at..]);
                at += Copy(personal[i], to[at..]);
            }
            return at + Copy(body._fixed[^1], to[at..]);

            static int Copy(byte[] from, Span<byte> to)
            {
                from.CopyTo(to);
                return from.Length;
            }
        }
    }
}

/// <summary>
/// A plain-text email body ready for readers: lines without placeholders are wrapped and encoded once; lines with
/// placeholders are wrapped after their values are in, since a name or a topic list changes their length.
/// </summary>
sealed class PersonalText
{
    readonly EncodedBody _body;

    public PersonalText(string rendered)
    {
        var fixedTexts = new List<string>();
        var personal = new List<Func<ReaderValues, string>>();
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
                fixedTexts.Add(fixedLines.ToString());
                fixedLines.Clear();
                personal.Add(values => Wrapped(fill.Fill(values)));
            }
            else
            {
                TextWrap.AppendWrapped(fixedLines, line);
            }
        }
        fixedTexts.Add(fixedLines.ToString());
        _body = new EncodedBody(fixedTexts, personal);
    }

    static string Wrapped(string line)
    {
        var wrapped = new StringBuilder(line.Length + 8);
        TextWrap.AppendWrapped(wrapped, line);
        return wrapped.ToString();
    }

    /// <summary>The reader's text, UTF-8 in quoted-printable.</summary>
    public EncodedBody.Filled Fill(ReaderValues values) => _body.Fill(values);
}

/// <summary>An HTML email body with CSS inlined, ready for readers: their values are HTML-escaped on the way in.</summary>
sealed class PersonalHtml
{
    readonly EncodedBody _body;

    public PersonalHtml(string inlined)
    {
        var (literals, slots) = Placeholders.Split(inlined);
        _body = new EncodedBody(literals, slots.Select(slot => (Func<ReaderValues, string>)(values => WebUtility.HtmlEncode(values[slot]))));
    }

    /// <summary>The reader's HTML, UTF-8 in quoted-printable.</summary>
    public EncodedBody.Filled Fill(ReaderValues values) => _body.Fill(values);
}
