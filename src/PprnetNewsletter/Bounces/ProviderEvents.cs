using System.Text.Json;

namespace PprnetNewsletter.Bounces;

/// <summary>
/// The sending providers' bounce and complaint events, turned into the reports the mailbox reader makes: the same
/// kinds, the same clues (the envelope sender, a VERP address when Bounces:Address is set, then the recipient), the
/// provider's event id for replays. Events that are neither bounces nor complaints (deliveries, opens) give nothing.
/// </summary>
public static class ProviderEvents
{
    /// <summary>An Amazon SES notification (the Message of an SNS notification): one report per recipient.</summary>
    public static IEnumerable<IncomingReport> Ses(string notificationId, string message)
    {
        using var document = JsonDocument.Parse(message);
        var root = document.RootElement;
        var type = Text(root, "notificationType") ?? Text(root, "eventType");
        var source = root.TryGetProperty("mail", out var mail) ? Text(mail, "source") : null;
        var reports = new List<IncomingReport>();
        if (type == "Bounce" && root.TryGetProperty("bounce", out var bounce))
        {
            var kind = Text(bounce, "bounceType") == "Permanent" ? ReportKind.Permanent : ReportKind.Transient;
            var index = 0;
            foreach (var recipient in Items(bounce, "bouncedRecipients"))
            {
                reports.Add(Report("ses", $"{notificationId}/{index++}", kind, Text(recipient, "emailAddress"),
                    Text(recipient, "status"), Text(recipient, "diagnosticCode") ?? Text(bounce, "bounceSubType"), source, recipient));
            }
        }
        else if (type == "Complaint" && root.TryGetProperty("complaint", out var complaint))
        {
            var index = 0;
            foreach (var recipient in Items(complaint, "complainedRecipients"))
            {
                reports.Add(Report("ses", $"{notificationId}/{index++}", ReportKind.Complaint, Text(recipient, "emailAddress"), null,
                    $"complaint: {Text(complaint, "complaintFeedbackType") ?? "abuse"}", source, recipient));
            }
        }
        return reports;
    }

    /// <summary>A Postmark bounce or spam-complaint webhook.</summary>
    public static IEnumerable<IncomingReport> Postmark(JsonElement root)
    {
        var id = root.TryGetProperty("ID", out var idValue) ? idValue.ToString() : null;
        if (id is null)
        {
            return [];
        }
        var record = Text(root, "RecordType");
        var type = Text(root, "Type");
        ReportKind? kind = (record, type) switch
        {
            ("SpamComplaint", _) or (_, "SpamComplaint") => ReportKind.Complaint,
            ("Bounce", "HardBounce" or "BadEmailAddress" or "ManuallyDeactivated") => ReportKind.Permanent,
            ("Bounce", "SoftBounce" or "Transient" or "DnsError") => ReportKind.Transient,
            ("Bounce", "AutoResponder") => ReportKind.AutoReply,
            _ => null,
        };
        return kind is { } k
            ? [Report("postmark", id, k, Text(root, "Email"), null, Text(root, "Details") ?? Text(root, "Description"), null, root)]
            : [];
    }

    /// <summary>SendGrid's event webhook: an array of events.</summary>
    public static IEnumerable<IncomingReport> SendGrid(JsonElement events)
    {
        var reports = new List<IncomingReport>();
        foreach (var item in events.ValueKind == JsonValueKind.Array ? events.EnumerateArray() : Enumerable.Empty<JsonElement>())
        {
            ReportKind? kind = (Text(item, "event"), Text(item, "type")) switch
            {
                // A deferral is one attempt SendGrid retries, reported again at each attempt and perhaps delivered at the
                // next: counted, a few of them would bounce a reader whose server only greylists. Only outcomes count.
                ("bounce", "blocked") => ReportKind.Transient,
                ("bounce", _) => ReportKind.Permanent,
                ("spamreport", _) => ReportKind.Complaint,
                _ => null,
            };
            if (kind is { } k && Text(item, "sg_event_id") is { } id)
            {
                reports.Add(Report("sendgrid", id, k, Text(item, "email"), Text(item, "status"),
                    Text(item, "reason") ?? Text(item, "response"), null, item));
            }
        }
        return reports;
    }

    /// <summary>
    /// A Mailgun webhook's event-data: failed for good, or complained. <paramref name="signedToken"/>, not
    /// the event's own id, names the event: Mailgun signs the token and timestamp but not the body, so a replayed
    /// signature with another body must count as the same event.
    /// </summary>
    public static IEnumerable<IncomingReport> Mailgun(JsonElement data, string signedToken)
    {
        var id = signedToken;
        ReportKind? kind = (Text(data, "event"), Text(data, "severity")) switch
        {
            ("failed", "permanent") => ReportKind.Permanent,
            // A temporary failure is one attempt Mailgun retries (and reports again); when it gives up, it reports a
            // permanent one. As with SendGrid's deferrals, only the outcome counts.
            ("failed", "temporary") => null,
            ("failed", _) => ReportKind.Transient,
            ("complained", _) => ReportKind.Complaint,
            _ => null,
        };
        if (kind is not { } k)
        {
            return [];
        }
        string? status = null, diagnostic = null;
        if (data.TryGetProperty("delivery-status", out var delivery))
        {
            status = Text(delivery, "enhanced-code");
            diagnostic = string.Join(" ", new[] { delivery.TryGetProperty("code", out var code) ? code.ToString() : null,
                Text(delivery, "message"), Text(delivery, "description") }.Where(s => !string.IsNullOrWhiteSpace(s)));
        }
        var sender = data.TryGetProperty("envelope", out var envelope) ? Text(envelope, "sender") : null;
        return [Report("mailgun", id, k, Text(data, "recipient"), status, diagnostic, sender, data)];
    }

    static IncomingReport Report(string channel, string eventId, ReportKind kind, string? recipient, string? status, string? diagnostic,
        string? envelopeSender, JsonElement raw) =>
        new(channel, eventId, new Classification(kind, recipient, status, diagnostic,
            ReturnPaths: envelopeSender is null ? [] : [envelopeSender]), JsonSerializer.SerializeToUtf8Bytes(raw));

    static IEnumerable<JsonElement> Items(JsonElement element, string name) =>
        element.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array ? array.EnumerateArray() : [];

    /// <summary>The string property <paramref name="name"/> of an object; null when absent or not a string.</summary>
    internal static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
