using System.Buffers;
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

/// <summary>A rendered line of plain text whose placeholders are replaced per reader, then wrapped.</summary>
sealed class FillIn
{
    readonly string[] _literals;
    readonly Slot[] _slots;
    readonly int _literalsLength;

    public FillIn(string rendered)
    {
        (_literals, _slots) = Placeholders.Split(rendered);
        _literalsLength = _literals.Sum(l => l.Length);
    }

    public bool HasSlots => _slots.Length > 0;

    /// <summary>Appends the line with <paramref name="values"/> in, wrapped (a name or a topic list changes its length).</summary>
    public void AppendWrapped(StringBuilder output, ReaderValues values)
    {
        var length = _literalsLength;
        foreach (var slot in _slots)
        {
            length += values[slot].Length;
        }
        var line = ArrayPool<char>.Shared.Rent(length);
        try
        {
            var at = Append(_literals[0], 0);
            for (var i = 0; i < _slots.Length; i++)
            {
                at = Append(values[_slots[i]], at);
                at = Append(_literals[i + 1], at);
            }
            TextWrap.AppendWrapped(output, line.AsSpan(0, at));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(line);
        }

        int Append(string text, int at)
        {
            text.CopyTo(line.AsSpan(at));
            return at + text.Length;
        }
    }
}

/// <summary>
/// An email body ready to become a MIME part's content: quoted-printable segments (see <see cref="QuotedPrintable"/>),
/// the fixed ones encoded once per variant and the reader's own encoded per email, so a message costs a few small
/// encodings and one copy (into the message's <see cref="EncodedAlternative"/>) instead of encoding the whole body
/// again for every reader. The reader's parts go through buffers reused from one email to the next: a digest's
/// topic list alone appears several times, and building each part as strings was a third of what a send allocated.
/// </summary>
sealed class EncodedBody
{
    /// <summary>Where the reader's parts are written before they are encoded; one per thread, since composing never awaits.</summary>
    [ThreadStatic]
    static StringBuilder? t_personal;

    readonly byte[][] _fixed; // _fixed[i] comes before personal part i; the last one ends the body
    readonly Action<ReaderValues, StringBuilder>[] _personal;
    readonly int _fixedLength;

    /// <param name="fixedTexts">The fixed texts, one more than <paramref name="personal"/>: they surround the reader's parts.</param>
    /// <param name="personal">The reader's parts, in order, each appending its text for every email.</param>
    public EncodedBody(IEnumerable<string> fixedTexts, IEnumerable<Action<ReaderValues, StringBuilder>> personal)
    {
        _fixed = [.. fixedTexts.Select(QuotedPrintable.Encode)];
        _personal = [.. personal];
        if (_fixed.Length != _personal.Length + 1)
        {
            throw new ArgumentException("A body needs one more fixed text than reader's parts.", nameof(fixedTexts));
        }
        _fixedLength = _fixed.Sum(f => f.Length);
    }

    /// <summary>The reader's parts encoded, ready to be copied between the fixed ones; dispose it once copied.</summary>
    public Filled Fill(ReaderValues values)
    {
        // Taken, not shared, while in use: nothing composes on this thread meanwhile, but nothing has to rely on it.
        var text = t_personal ?? new StringBuilder(1024);
        t_personal = null;
        var chars = Array.Empty<char>();
        try
        {
            var ends = new int[_personal.Length];
            for (var i = 0; i < _personal.Length; i++)
            {
                _personal[i](values, text);
                ends[i] = text.Length;
            }
            chars = ArrayPool<char>.Shared.Rent(text.Length);
            text.CopyTo(0, chars, text.Length);

            // Each part a segment of its own, encoded straight into one pooled buffer.
            var start = 0;
            var most = 0;
            foreach (var end in ends)
            {
                most += QuotedPrintable.MaxEncodedLength(end - start);
                start = end;
            }
            var encoded = ArrayPool<byte>.Shared.Rent(most);
            start = 0;
            var at = 0;
            // ends[i] is read as where part i ends in the text, then overwritten with where it ends encoded.
            for (var i = 0; i < ends.Length; i++)
            {
                at += QuotedPrintable.Encode(chars.AsSpan(start, ends[i] - start), encoded.AsSpan(at));
                (start, ends[i]) = (ends[i], at);
            }
            return new Filled(this, encoded, ends, _fixedLength + at);
        }
        finally
        {
            if (chars.Length > 0)
            {
                ArrayPool<char>.Shared.Return(chars);
            }
            text.Clear();
            t_personal = text;
        }
    }

    /// <summary>
    /// One reader's body, quoted-printable: <see cref="Length"/> octets, written by <see cref="CopyTo"/>. Its parts
    /// live in a pooled buffer that goes back when it is disposed.
    /// </summary>
    public sealed class Filled : IDisposable
    {
        readonly EncodedBody _body;
        readonly int[] _ends; // where each encoded part ends in _personal
        byte[]? _personal;

        internal Filled(EncodedBody body, byte[] personal, int[] ends, int length)
        {
            _body = body;
            _personal = personal;
            _ends = ends;
            Length = length;
        }

        public int Length { get; }

        /// <summary>Writes the body at the start of <paramref name="to"/>; returns <see cref="Length"/>.</summary>
        public int CopyTo(Span<byte> to)
        {
            var personal = _personal ?? throw new ObjectDisposedException(nameof(Filled));
            var at = 0;
            var start = 0;
            for (var i = 0; i < _ends.Length; i++)
            {
                at += Copy(_body._fixed[i], to[at..]);
                at += Copy(personal.AsSpan(start, _ends[i] - start), to[at..]);
                start = _ends[i];
            }
            return at + Copy(_body._fixed[^1], to[at..]);

            static int Copy(ReadOnlySpan<byte> from, Span<byte> to)
            {
                from.CopyTo(to);
                return from.Length;
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _personal, null) is { } personal)
            {
                ArrayPool<byte>.Shared.Return(personal);
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
        var personal = new List<Action<ReaderValues, StringBuilder>>();
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
                personal.Add((values, output) => fill.AppendWrapped(output, values));
            }
            else
            {
                TextWrap.AppendWrapped(fixedLines, line);
            }
        }
        fixedTexts.Add(fixedLines.ToString());
        _body = new EncodedBody(fixedTexts, personal);
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
        _body = new EncodedBody(literals, slots.Select(slot => (Action<ReaderValues, StringBuilder>)((values, output) => output.Append(WebUtility.HtmlEncode(values[slot])))));
    }

    /// <summary>The reader's HTML, UTF-8 in quoted-printable.</summary>
    public EncodedBody.Filled Fill(ReaderValues values) => _body.Fill(values);
}
