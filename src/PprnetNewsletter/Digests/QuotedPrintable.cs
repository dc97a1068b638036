using System.Buffers;
using System.Text;

namespace PprnetNewsletter.Digests;

/// <summary>
/// Quoted-printable (RFC 2045 §6.7) in self-contained segments, so a body can be assembled from pieces encoded at
/// different times: a segment starts at the beginning of a line and ends at the beginning of one, after a hard line
/// break where its text has one and after a soft line break (<c>=</c> CRLF) where it does not. Any concatenation of
/// segments is therefore valid quoted-printable that decodes to the concatenation of their texts. No encoded line
/// starts with a dot.
/// </summary>
static class QuotedPrintable
{
    /// <summary>RFC 2045: an encoded line holds at most 76 characters, the <c>=</c> of a soft line break included.</summary>
    public const int MaxLineLength = 76;

    // Text sizes beyond which the scratch buffers come from the pool instead of the stack.
    const int StackBytes = 1024;

    static ReadOnlySpan<byte> Hex => "0123456789ABCDEF"u8;

    static ReadOnlySpan<byte> SoftBreak => "=\r\n"u8;

    /// <summary><paramref name="text"/> as UTF-8, encoded as one segment; line breaks (LF or CRLF) become CRLF.</summary>
    public static byte[] Encode(string text) => Encode(text.AsSpan());

    /// <inheritdoc cref="Encode(string)"/>
    public static byte[] Encode(ReadOnlySpan<char> text)
    {
        var maxEncoded = MaxEncodedLength(text.Length);
        byte[]? pooled = null;
        try
        {
            var output = maxEncoded <= StackBytes * 4 ? stackalloc byte[maxEncoded] : (pooled = ArrayPool<byte>.Shared.Rent(maxEncoded));
            return output[..Encode(text, output)].ToArray();
        }
        finally
        {
            Return(pooled);
        }
    }

    /// <summary>
    /// Encodes <paramref name="text"/> as one segment into <paramref name="output"/>, which holds at least
    /// <see cref="MaxEncodedLength"/> octets for it; returns the octets written.
    /// </summary>
    public static int Encode(ReadOnlySpan<char> text, Span<byte> output)
    {
        var maxBytes = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? pooled = null;
        try
        {
            var utf8 = maxBytes <= StackBytes ? stackalloc byte[maxBytes] : (pooled = ArrayPool<byte>.Shared.Rent(maxBytes));
            return Encode(utf8[..Encoding.UTF8.GetBytes(text, utf8)], output);
        }
        finally
        {
            Return(pooled);
        }
    }

    /// <summary>An upper bound of the encoded size of a text of <paramref name="characters"/> characters.</summary>
    public static int MaxEncodedLength(int characters) => MaxOctetsEncoded(Encoding.UTF8.GetMaxByteCount(characters));

    static void Return(byte[]? pooled)
    {
        if (pooled is not null)
        {
            ArrayPool<byte>.Shared.Return(pooled);
        }
    }

    /// <summary>
    /// An upper bound of the encoded size of <paramref name="octets"/> octets: three characters an octet at worst,
    /// plus a soft line break every 64 or more characters (a line breaks early only to keep a character's octets together).
    /// </summary>
    static int MaxOctetsEncoded(int octets) => (3 * octets) + (SoftBreak.Length * ((3 * octets / 64) + 1));

    /// <summary>Octets that may stand for themselves: printable ASCII but '=', and space and tab (unless a line break follows).</summary>
    static readonly SearchValues<byte> Plain = SearchValues.Create([(byte)'\t', (byte)' ', .. Enumerable.Range(33, 94).Where(b => b != '=').Select(b => (byte)b)]);

    /// <summary>Encodes <paramref name="text"/> (UTF-8) into <paramref name="output"/>; returns the characters written.</summary>
    static int Encode(ReadOnlySpan<byte> text, Span<byte> output)
    {
        var written = 0;
        var column = 0;
        var i = 0;
        while (i < text.Length)
        {
            var lineBreak = LineBreakAt(text, i);
            if (lineBreak > 0)
            {
                output[written++] = (byte)'\r';
                output[written++] = (byte)'\n';
                column = 0;
                i += lineBreak;
                continue;
            }

            // Most of a text is plain: runs of it are found by a vectorised search and copied as they are, a line at a time.
            var run = text[i..].IndexOfAnyExcept(Plain);
            if (run < 0)
            {
                run = text.Length - i;
            }
            // A space or tab just before a line break must be encoded, or a relay may strip it (RFC 2045 rule 3);
            // before a soft line break it may stay as it is.
            if (run > 0 && text[i + run - 1] is (byte)' ' or (byte)'\t' && LineBreakAt(text, i + run) > 0)
            {
                run--;
            }
            while (run > 0)
            {
                if (column == MaxLineLength - 1)
                {
                    written += Write(SoftBreak, output[written..]);
                    column = 0;
                }
                if (column == 0 && text[i] == '.')
                {
                    break;
                }
                var take = Math.Min(run, MaxLineLength - 1 - column);
                text.Slice(i, take).CopyTo(output[written..]);
                written += take;
                column += take;
                i += take;
                run -= take;
            }
            if (i == text.Length || LineBreakAt(text, i) > 0)
            {
                continue;
            }

            // One octet to encode: not plain, a space or tab before a line break, or a dot that would start a line.
            // SMTP clients double such a dot (RFC 5321 §4.5.2), and MailKit copies every 4 KB block that holds one to
            // do it; as =2E it costs them a scan and nothing more, and a line of a lone dot cannot end a message early.
            // The octets of one character stay on one line, so a client that decodes line by line still sees whole
            // characters.
            var octet = text[i];
            var width = 3 * CharacterOctets(text, i);
            if (column + width > MaxLineLength - 1)
            {
                written += Write(SoftBreak, output[written..]);
                column = 0;
            }
            output[written++] = (byte)'=';
            output[written++] = Hex[octet >> 4];
            output[written++] = Hex[octet & 0xF];
            column += 3;
            i++;
        }
        if (column > 0)
        {
            written += Write(SoftBreak, output[written..]);
        }
        return written;
    }

    /// <summary>2 for CRLF at <paramref name="i"/>, 1 for LF, else 0. A lone CR is not a line break: it is encoded.</summary>
    static int LineBreakAt(ReadOnlySpan<byte> text, int i) =>
        i >= text.Length ? 0
        : text[i] == '\n' ? 1
        : text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n' ? 2
        : 0;

    /// <summary>How many octets the UTF-8 character starting at <paramref name="i"/> has from there (1 for anything but a lead octet).</summary>
    static int CharacterOctets(ReadOnlySpan<byte> text, int i)
    {
        if (text[i] < 0xC0)
        {
            return 1;
        }
        var end = i + 1;
        while (end < text.Length && end - i < 4 && (text[end] & 0xC0) == 0x80)
        {
            end++;
        }
        return end - i;
    }

    static int Write(ReadOnlySpan<byte> bytes, Span<byte> output)
    {
        bytes.CopyTo(output);
        return bytes.Length;
    }
}
