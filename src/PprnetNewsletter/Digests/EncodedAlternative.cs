using System.Buffers;
using System.Text;
using MimeKit;
using MimeKit.IO;

namespace PprnetNewsletter.Digests;

/// <summary>
/// A multipart/alternative body (text/plain first, text/html last, both UTF-8 in quoted-printable) whose whole
/// content, boundaries and part headers included, is one buffer filled in per reader. MimeKit writes a multipart by
/// walking its parts and passing each one's content through a line-ending filter; this content is already final
/// (CRLF line ends, lines of at most 76 octets), so where the line ends are CRLF (SMTP, DKIM) the buffer goes out
/// as it is: the bytes MimeKit would write, for a fraction of the work. Anywhere else (a pickup file with the
/// platform's line ends) MimeKit writes the parts, which read from the same buffer.
/// The buffer is rented from the shared array pool and goes back when the message is disposed: a digest's body is
/// about half of what composing it allocates, and a send disposes each message once it is settled. A message that
/// is never disposed simply leaves its buffer to the garbage collector.
/// </summary>
public sealed class EncodedAlternative : MultipartAlternative
{
    /// <summary>
    /// Written in blocks of this size, as MimeKit writes content: the streams it goes through (MailKit's
    /// dot-stuffing, DKIM's canonicalisation) filter into buffers as large as each write.
    /// </summary>
    const int WriteBlock = 4096;

    readonly string _boundary;
    readonly int _length;
    readonly TextPart _text;
    readonly TextPart _html;
    byte[]? _content; // null once disposed: the pool may have handed it to another message

    EncodedAlternative(string boundary, byte[] content, int length, Range text, Range html)
    {
        Boundary = _boundary = boundary;
        _content = content;
        _length = length;
        _text = Part(MimeKit.Text.TextFormat.Plain, content, text);
        _html = Part(MimeKit.Text.TextFormat.Html, content, html);
        Add(_text);
        Add(_html);
    }

    /// <summary>The fixed bytes around the two parts for one boundary: computed once per rendered email.</summary>
    internal sealed class Framing
    {
        public Framing()
        {
            // MimeKit's own boundary ("=-" and random base64): a quoted-printable body never holds "=-", since it
            // writes '=' only as "=3D" or at the end of a line.
            Boundary = new MultipartAlternative().Boundary ?? throw new InvalidOperationException("MimeKit generated no boundary.");
            var delimiter = $"--{Boundary}\r\n";
            Head = Encoding.ASCII.GetBytes(delimiter + PartHeaders("text/plain"));
            Middle = Encoding.ASCII.GetBytes("\r\n" + delimiter + PartHeaders("text/html"));
            Tail = Encoding.ASCII.GetBytes($"\r\n--{Boundary}--\r\n");

            // As MimeKit writes the headers of the parts made in Part below.
            static string PartHeaders(string mediaType) =>
                $"Content-Type: {mediaType}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
        }

        public string Boundary { get; }

        public byte[] Head { get; }

        public byte[] Middle { get; }

        public byte[] Tail { get; }
    }

    /// <summary>Lays out one reader's body: the framing around their encoded text and HTML, in one buffer.</summary>
    internal static EncodedAlternative Create(Framing framing, EncodedBody.Filled text, EncodedBody.Filled html)
    {
        var length = framing.Head.Length + text.Length + framing.Middle.Length + html.Length + framing.Tail.Length;
        var content = ArrayPool<byte>.Shared.Rent(length);
        var at = Copy(framing.Head, 0);
        var textStart = at;
        at += text.CopyTo(content.AsSpan(at));
        var textRange = textStart..at;
        at = Copy(framing.Middle, at);
        var htmlStart = at;
        at += html.CopyTo(content.AsSpan(at));
        var htmlRange = htmlStart..at;
        Copy(framing.Tail, at);
        return new EncodedAlternative(framing.Boundary, content, length, textRange, htmlRange);

        int Copy(byte[] from, int to)
        {
            from.CopyTo(content, to);
            return to + from.Length;
        }
    }

    static TextPart Part(MimeKit.Text.TextFormat format, byte[] content, Range range)
    {
        // Content already in the part's transfer encoding is copied as it is when MimeKit writes the part, and
        // DKIM's Prepare leaves a quoted-printable part alone: the body is never encoded again.
        var (offset, length) = range.GetOffsetAndLength(content.Length); // the range lies inside the rented array
        var part = new TextPart(format)
        {
            ContentTransferEncoding = ContentEncoding.QuotedPrintable,
            Content = new MimeContent(new MemoryStream(content, offset, length, writable: false), ContentEncoding.QuotedPrintable),
        };
        part.ContentType.Charset = "utf-8";
        return part;
    }

    /// <summary>
    /// The buffer is exactly what MimeKit would write for the content of this multipart when line ends are CRLF and
    /// the parts' headers are not hidden (an SMTP client hides Bcc). The parts are made here and never changed; if
    /// anything swaps them or sets a boundary, a preamble or an epilogue, MimeKit writes the multipart instead.
    /// </summary>
    bool WritesBufferFor(FormatOptions options, bool contentOnly) =>
        contentOnly
        && options.NewLineFormat == NewLineFormat.Dos
        && !options.HiddenHeaders.Contains(HeaderId.ContentType)
        && !options.HiddenHeaders.Contains(HeaderId.ContentTransferEncoding)
        && Count == 2 && ReferenceEquals(this[0], _text) && ReferenceEquals(this[1], _html)
        && Boundary == _boundary && Preamble is null && Epilogue is null;

    public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        if (!WritesBufferFor(options, contentOnly))
        {
            base.WriteTo(options, stream, contentOnly, cancellationToken);
            return;
        }
        var content = Content;
        for (var at = 0; at < _length; at += WriteBlock)
        {
            cancellationToken.ThrowIfCancellationRequested();
            stream.Write(content, at, Math.Min(WriteBlock, _length - at));
        }
    }

    public override async Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        if (!WritesBufferFor(options, contentOnly))
        {
            await base.WriteToAsync(options, stream, contentOnly, cancellationToken);
            return;
        }
        var content = Content;
        for (var at = 0; at < _length; at += WriteBlock)
        {
            await stream.WriteAsync(content, at, Math.Min(WriteBlock, _length - at), cancellationToken);
        }
    }

    byte[] Content => _content ?? throw new ObjectDisposedException(nameof(EncodedAlternative), "The message was disposed; its body went back to the pool.");

    protected override void Dispose(bool disposing)
    {
        // The parts first: their streams read from the buffer and must be closed before anyone else can rent it.
        base.Dispose(disposing);
        if (disposing && Interlocked.Exchange(ref _content, null) is { } content)
        {
            ArrayPool<byte>.Shared.Return(content);
        }
    }
}
