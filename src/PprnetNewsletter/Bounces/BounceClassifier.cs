using System.Text.RegularExpressions;
using MimeKit;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Bounces;

/// <summary>What a message in the bounce mailbox (or a provider's event) is.</summary>
public enum ReportKind
{
    /// <summary>A permanent failure (5.x.x): the address is dead.</summary>
    Permanent,

    /// <summary>A transient failure (4.x.x): counted; enough of them within the window make a bounce.</summary>
    Transient,

    /// <summary>A spam complaint (RFC 5965 feedback report).</summary>
    Complaint,

    /// <summary>A message to the List-Unsubscribe mailto.</summary>
    Mailto,

    /// <summary>An automatic reply (vacation, out of office): ignored.</summary>
    AutoReply,

    /// <summary>None of the above: moved aside, never acted on.</summary>
    Unrecognised,
}

/// <summary>
/// What a report says and the clues to whom it is about: the addresses it was delivered to (a VERP address among them
/// names the delivery), the recipient it reports on, and the Message-ID of the digest it returns.
/// </summary>
public sealed record Classification(
    ReportKind Kind,
    string? Recipient = null,
    string? Status = null,
    string? Diagnostic = null,
    string? OriginalMessageId = null,
    IReadOnlyList<string>? ReturnPaths = null,
    long? MailtoSubscriberId = null)
{
    public static Classification Unrecognised { get; } = new(ReportKind.Unrecognised);
}

/// <summary>
/// Sorts what arrives in the bounce mailbox. Reports are recognised by their MIME structure, never by the wording of
/// a subject or body, which differs between every server and language: an RFC 3464 delivery status notification
/// (Postfix, Exchange and Gmail all send one) read with MimeKit's delivery-status types, an RFC 5965 feedback report,
/// an RFC 3834 automatic reply (or one of the older markers vacation programs use), and a mailto unsubscribe, whose
/// subject carries a signed unsubscribe token. Anything else is unrecognised and left alone.
/// </summary>
public sealed partial class BounceClassifier(LinkTokens tokens)
{
    /// <summary>Headers that say where a message was delivered: the VERP address of a bounce is among them.</summary>
    static readonly string[] DeliveryHeaders = ["Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To", "Return-Path"];

    public Classification Classify(MimeMessage message)
    {
        if (FindReport(message.Body, "delivery-status") is { } dsn)
        {
            return DeliveryStatus(message, dsn);
        }
        if (FindReport(message.Body, "feedback-report") is { } arf)
        {
            return FeedbackReport(message, arf);
        }
        if (IsAutomaticReply(message))
        {
            return new Classification(ReportKind.AutoReply, ReturnPaths: [.. DeliveredTo(message.Headers)]);
        }
        if (UnsubscribeSubject().Match(message.Subject ?? "") is { Success: true } match
            && tokens.TryVerify(match.Groups[1].Value, LinkPurpose.Unsubscribe, out var subscriberId))
        {
            return new Classification(ReportKind.Mailto, Recipient: message.From.Mailboxes.FirstOrDefault()?.Address,
                MailtoSubscriberId: subscriberId);
        }
        return Classification.Unrecognised;
    }

    static MultipartReport? FindReport(MimeEntity? entity, string reportType) => entity switch
    {
        MultipartReport report when string.Equals(report.ReportType, reportType, StringComparison.OrdinalIgnoreCase) => report,
        // Some gateways wrap the report in a multipart/mixed with a banner of their own.
        Multipart multipart => multipart.Select(part => FindReport(part, reportType)).FirstOrDefault(r => r is not null),
        _ => null,
    };

    Classification DeliveryStatus(MimeMessage message, MultipartReport report)
    {
        if (report.OfType<MessageDeliveryStatus>().FirstOrDefault() is not { } status || status.StatusGroups.Count < 2)
        {
            return Classification.Unrecognised;
        }
        // The first group is about the message; each further one about a recipient. Ours carry one recipient each,
        // but a server may list several (delivered to some): the first that failed or was delayed is the news.
        foreach (var recipient in status.StatusGroups.Skip(1))
        {
            var action = (recipient["Action"] ?? "").Trim().ToLowerInvariant();
            var code = EnhancedStatus().Match(recipient["Status"] ?? "") is { Success: true } m ? m.Value : null;
            var kind = (action, code) switch
            {
                (_, ['5', ..]) => ReportKind.Permanent,
                (_, ['4', ..]) => ReportKind.Transient,
                ("failed", _) => ReportKind.Permanent,
                ("delayed", _) => ReportKind.Transient,
                _ => ReportKind.Unrecognised,
            };
            if (kind == ReportKind.Unrecognised || action is "delivered" or "relayed" or "expanded")
            {
                continue;
            }
            var original = OriginalHeaders(report);
            return new Classification(kind,
                Recipient: Address(recipient["Final-Recipient"]) ?? Address(recipient["Original-Recipient"]),
                Status: code,
                Diagnostic: Clean(recipient["Diagnostic-Code"]) ?? Clean(recipient["Status"]),
                OriginalMessageId: OriginalMessageId(original),
                ReturnPaths: [.. DeliveredTo(message.Headers), .. original is null ? [] : DeliveredTo(original)]);
        }
        return Classification.Unrecognised;
    }

    static Classification FeedbackReport(MimeMessage message, MultipartReport report)
    {
        if (report.OfType<MessageFeedbackReport>().FirstOrDefault() is not { } feedback
            || string.Equals(feedback.Fields["Feedback-Type"]?.Trim(), "not-spam", StringComparison.OrdinalIgnoreCase))
        {
            return Classification.Unrecognised;
        }
        var original = OriginalHeaders(report);
        var returnPaths = new List<string>(DeliveredTo(message.Headers));
        // The original envelope sender is our VERP address, and the one clue that survives when a provider redacts
        // the recipient's address from the report.
        if (Address(feedback.Fields["Original-Mail-From"]) is { } mailFrom)
        {
            returnPaths.Add(mailFrom);
        }
        if (original is not null)
        {
            returnPaths.AddRange(DeliveredTo(original));
        }
        var recipient = Address(feedback.Fields["Original-Rcpt-To"])
            ?? (original?["To"] is { } to && InternetAddressList.TryParse(to, out var list) ? list.Mailboxes.FirstOrDefault()?.Address : null);
        return new Classification(ReportKind.Complaint,
            Recipient: recipient,
            Diagnostic: $"feedback report: {Clean(feedback.Fields["Feedback-Type"]) ?? "abuse"}"
                + (Clean(feedback.Fields["User-Agent"]) is { } agent ? $" from {agent}" : ""),
            OriginalMessageId: OriginalMessageId(original),
            ReturnPaths: returnPaths);
    }

    /// <summary>The headers of the returned message: a message/rfc822 part, or text/rfc822-headers.</summary>
    static HeaderList? OriginalHeaders(MultipartReport report)
    {
        foreach (var part in report.Skip(1))
        {
            if (part is MessagePart { Message: { } returned })
            {
                return returned.Headers;
            }
            if (part is TextPart text && text.ContentType.IsMimeType("text", "rfc822-headers"))
            {
                using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text.Text + "\r\n"));
                return HeaderList.Load(stream);
            }
        }
        return null;
    }

    static string? OriginalMessageId(HeaderList? headers) =>
        headers?["Message-ID"] is { } id && MimeKit.Utils.MimeUtils.EnumerateReferences(id).FirstOrDefault() is { } parsed ? parsed : null;

    static IEnumerable<string> DeliveredTo(HeaderList headers)
    {
        foreach (var header in headers.Where(h => DeliveryHeaders.Contains(h.Field, StringComparer.OrdinalIgnoreCase)))
        {
            if (InternetAddressList.TryParse(header.Value, out var list))
            {
                foreach (var mailbox in list.Mailboxes)
                {
                    yield return mailbox.Address;
                }
            }
            else if (Address(header.Value) is { } bare)
            {
                yield return bare;
            }
        }
    }

    /// <summary>
    /// RFC 3834's Auto-Submitted (anything but "no"), the markers of older vacation programs and the subjects they use when they set no header at all.
    /// </summary>
    static bool IsAutomaticReply(MimeMessage message)
    {
        var headers = message.Headers;
        if (headers["Auto-Submitted"] is { } submitted && !submitted.Trim().Equals("no", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        if (headers.Contains("X-Autoreply") || headers.Contains("X-Autorespond") || headers.Contains("X-Autoresponder"))
        {
            return true;
        }
        if (headers["Precedence"]?.Trim().ToLowerInvariant() is "auto_reply")
        {
            return true;
        }
        return AutoReplySubject().IsMatch(message.Subject ?? "");
    }

    /// <summary>"rfc822; someone@example.org" → "someone@example.org".</summary>
    static string? Address(string? field)
    {
        if (string.IsNullOrWhiteSpace(field))
        {
            return null;
        }
        var value = field[(field.IndexOf(';') + 1)..].Trim().Trim('<', '>').Trim();
        return value.Contains('@', StringComparison.Ordinal) ? value : null;
    }

    /// <summary>One line, at most 1,000 characters: a diagnostic is shown to administrators and stored in the ledger.</summary>
    static string? Clean(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var line = Whitespace().Replace(text, " ").Trim();
        return line.Length <= 1000 ? line : line[..1000];
    }

    [GeneratedRegex(@"\b[245]\.\d{1,3}\.\d{1,3}\b")]
    private static partial Regex EnhancedStatus();

    [GeneratedRegex(@"unsubscribe-([A-Za-z0-9._~-]+)", RegexOptions.IgnoreCase)]
    private static partial Regex UnsubscribeSubject();

    [GeneratedRegex(@"^\s*(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|vacation|away from (the )?office|abwesenheit|r[ée]ponse automatique)", RegexOptions.IgnoreCase)]
    private static partial Regex AutoReplySubject();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
