using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Digests;

/// <summary>
/// Builds standards-clean messages: multipart/alternative (text/plain first, text/html last), UTF-8 in
/// quoted-printable so no line exceeds 998 octets, addresses as MailboxAddress objects so no stored value can
/// break or add a header, identifiers on the sender's domain (never the machine's name), DKIM last.
/// </summary>
public sealed class MessageAssembly(IOptions<NewsletterOptions> options, TimeProvider time, DkimSigning dkim)
{
    static readonly IEnumerable<Header> NoHeaders = [];
    static readonly Version MimeVersion = new(1, 0);

    readonly NewsletterOptions _newsletter = options.Value;
    readonly MailboxAddress _from = new(ReaderValues.CleanName(options.Value.FromName), options.Value.FromAddress);

    /// <summary>The domain of Newsletter:FromAddress: Message-IDs and List-Id live there.</summary>
    public string SenderDomain { get; } = options.Value.FromAddress[(options.Value.FromAddress.LastIndexOf('@') + 1)..].ToLowerInvariant();

    public MimeMessage Build(string toName, string toEmail, string subject, string messageId, string text, string html)
    {
        var plain = new TextPart(MimeKit.Text.TextFormat.Plain) { ContentTransferEncoding = ContentEncoding.QuotedPrintable };
        plain.SetText(Encoding.UTF8, text);
        var rich = new TextPart(MimeKit.Text.TextFormat.Html) { ContentTransferEncoding = ContentEncoding.QuotedPrintable };
        rich.SetText(Encoding.UTF8, html);

        // The parameterless constructor generates a Message-ID from the machine's host name (a DNS lookup on every
        // message); starting from no headers and setting each one is both faster and says exactly what is sent.
        var message = new MimeMessage(NoHeaders);
        message.From.Add(_from);
        message.To.Add(new MailboxAddress(ReaderValues.CleanName(toName), toEmail));
        message.Subject = subject;
        message.Date = time.GetUtcNow();
        message.MessageId = messageId;
        message.MimeVersion = MimeVersion;
        message.Body = new MultipartAlternative { plain, rich };
        return message;
    }

    /// <summary>
    /// The headers of list mail: List-Id (RFC 2919), List-Unsubscribe with an HTTPS URL and a mailto
    /// (RFC 2369), one-click unsubscribe (RFC 8058) and Gmail's Feedback-ID.
    /// </summary>
    public void AddListHeaders(MimeMessage message, string unsubscribeUrl, string unsubscribeMailto, string feedbackId)
    {
        message.Headers.Add("List-Id", $"{ReaderValues.CleanName(_newsletter.FromName).Replace('<', ' ').Replace('>', ' ')} <digest.{SenderDomain}>");
        message.Headers.Add("List-Unsubscribe", $"<{unsubscribeUrl}>, <{unsubscribeMailto}>");
        message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        message.Headers.Add("Feedback-ID", feedbackId);
    }

    /// <summary>The last step: nothing may change the message after it is signed.</summary>
    public void Sign(MimeMessage message) => dkim.Sign(message);

    /// <summary>A Message-ID on the sender's domain that nobody can guess or collide with.</summary>
    public string RandomMessageId(string kind, long subscriberId) =>
        $"{kind}.{subscriberId}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}@{SenderDomain}";
}
