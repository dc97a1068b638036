using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using MimeKit;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Digests;

/// <summary>
/// Builds standards-clean messages: multipart/alternative (text/plain first, text/html last), UTF-8 in
/// quoted-printable (encoded before it gets here: see <see cref="EncodedAlternative"/>) so no body line exceeds 76
/// octets, addresses as MailboxAddress objects so no stored value can break or add a header, identifiers on the
/// sender's domain (never the machine's name), DKIM last.
/// </summary>
public sealed class MessageAssembly(IOptions<NewsletterOptions> options, TimeProvider time, DkimSigning dkim)
{
    static readonly IEnumerable<Header> NoHeaders = [];
    static readonly Version MimeVersion = new(1, 0);

    readonly NewsletterOptions _newsletter = options.Value;
    readonly MailboxAddress _from = new(ReaderValues.CleanName(options.Value.FromName), options.Value.FromAddress);

    /// <summary>The domain of Newsletter:FromAddress: Message-IDs and List-Id live there.</summary>
    public string SenderDomain { get; } = options.Value.FromAddress[(options.Value.FromAddress.LastIndexOf('@') + 1)..].ToLowerInvariant();

    /// <summary>
    /// The headers that are the same for every reader of an email (From, Subject, MIME-Version and, for a list
    /// email, List-Id, List-Unsubscribe-Post and Feedback-ID), encoded once; each message gets copies.
    /// </summary>
    /// <param name="feedbackId">Gmail's Feedback-ID for list mail; null for a one-off email (no list headers).</param>
    public SharedHeaders Share(string subject, string? feedbackId)
    {
        var prototype = new MimeMessage(NoHeaders);
        prototype.From.Add(_from);
        prototype.Subject = subject;
        prototype.MimeVersion = MimeVersion;
        if (feedbackId is not null)
        {
            // List-Id (RFC 2919), one-click unsubscribe (RFC 8058); List-Unsubscribe itself is per reader.
            prototype.Headers.Add("List-Id", $"{ReaderValues.CleanName(_newsletter.FromName).Replace('<', ' ').Replace('>', ' ')} <digest.{SenderDomain}>");
            prototype.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
            prototype.Headers.Add("Feedback-ID", feedbackId);
        }
        return new SharedHeaders(subject, [.. prototype.Headers]);
    }

    /// <param name="body">The reader's body, filled in from a rendered email (<see cref="PersonalisedEmail.Fill"/>).</param>
    /// <param name="envelopeSender">Where bounces go (a VERP address), when not to the From address.</param>
    public MimeMessage Build(SharedHeaders shared, string toName, string toEmail, string messageId, EncodedAlternative body,
        MailboxAddress? envelopeSender = null)
    {
        // The parameterless constructor generates a Message-ID from the machine's host name on every message;
        // starting from no headers says exactly what is sent, and copying the shared ones skips encoding them again.
        var headers = shared.Headers.Select(h => h.Clone());
        var message = envelopeSender is null ? new MimeMessage(headers) : new EnvelopeMessage(headers, envelopeSender);
        message.To.Add(new MailboxAddress(ReaderValues.CleanName(toName), toEmail));
        message.Date = time.GetUtcNow();
        message.MessageId = messageId;
        message.Body = body;
        return message;
    }

    /// <summary>List-Unsubscribe (RFC 2369): the HTTPS link (one click, RFC 8058) and a mailto, for this reader.</summary>
    public static void AddListUnsubscribe(MimeMessage message, string unsubscribeUrl, string unsubscribeMailto) =>
        message.Headers.Add("List-Unsubscribe", $"<{unsubscribeUrl}>, <{unsubscribeMailto}>");

    /// <summary>The last step: nothing may change the message after it is signed.</summary>
    public void Sign(MimeMessage message) => dkim.Sign(message);

    /// <summary>What a test message's subject starts with, so nobody takes it for the real edition.</summary>
    public const string TestSubjectPrefix = "[TEST] ";

    /// <summary>Makes a composed message a test: its subject starts with <see cref="TestSubjectPrefix"/>, and it is signed again.</summary>
    public void MarkAsTest(MimeMessage message)
    {
        message.Headers.RemoveAll(HeaderId.DkimSignature);
        message.Subject = TestSubjectPrefix + message.Subject;
        Sign(message);
    }

    /// <summary>A Message-ID on the sender's domain that nobody can guess or collide with.</summary>
    public string RandomMessageId(string kind, long subscriberId) =>
        $"{kind}.{subscriberId}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}@{SenderDomain}";
}

/// <summary>Headers encoded once for every reader of an email; see <see cref="MessageAssembly.Share"/>.</summary>
public sealed class SharedHeaders
{
    internal SharedHeaders(string subject, IReadOnlyList<Header> headers)
    {
        Subject = subject;
        Headers = headers;
    }

    public string Subject { get; }

    internal IReadOnlyList<Header> Headers { get; }
}
