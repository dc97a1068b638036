using System.ComponentModel.DataAnnotations;
using PprnetNewsletter.Delivery;

namespace PprnetNewsletter.Bounces;

/// <summary>
/// Where bounces, complaints and mailto unsubscribes come back, and when repeated soft bounces stop the mail.
/// Everything is off until configured: no VERP without <see cref="Address"/>, no mailbox reader without
/// <c>Bounces:Imap:Host</c>, no webhook without its provider's secret.
/// </summary>
public sealed class BouncesOptions : IValidatableObject
{
    public const string Section = "Bounces";

    /// <summary>
    /// The base of the envelope sender, e.g. <c>bounces@pprnet.example.org</c>: each digest goes out from
    /// <c>bounces+TOKEN@pprnet.example.org</c>. Empty: the envelope sender is the From address.
    /// </summary>
    public string? Address { get; set; }

    public BounceImapOptions Imap { get; set; } = new();

    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00", ErrorMessage = "Bounces:PollInterval must be between 00:00:05 and 1.00:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Transient bounces within <see cref="SoftWindow"/> that make an address bounced.</summary>
    [Range(1, 1000, ErrorMessage = "Bounces:SoftLimit must be between 1 and 1000")]
    public int SoftLimit { get; set; } = 3;

    [Range(typeof(TimeSpan), "01:00:00", "365.00:00:00", ErrorMessage = "Bounces:SoftWindow must be between 01:00:00 and 365.00:00:00")]
    public TimeSpan SoftWindow { get; set; } = TimeSpan.FromDays(30);

    public BounceWebhookOptions Webhooks { get; set; } = new();

    public bool VerpEnabled => !string.IsNullOrWhiteSpace(Address);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (VerpEnabled && !new EmailAddressAttribute().IsValid(Address!.Trim()))
        {
            yield return new ValidationResult(
                $"Bounces:Address '{Address}' must be an email address, e.g. bounces@pprnet.example.org (or empty for no VERP).", [nameof(Address)]);
        }
        if (VerpEnabled && Address!.Split('@')[0].Contains('+', StringComparison.Ordinal))
        {
            yield return new ValidationResult(
                $"Bounces:Address '{Address}' must not contain '+' before the '@': the service adds '+TOKEN' itself.", [nameof(Address)]);
        }
        if (Imap.Enabled && string.IsNullOrWhiteSpace(Imap.Username))
        {
            yield return new ValidationResult(
                "Bounces:Imap:Username is required when Bounces:Imap:Host is set (with Bounces:Imap:Password).", [nameof(Imap)]);
        }
        if (Imap.Port is < 1 or > 65535)
        {
            yield return new ValidationResult("Bounces:Imap:Port must be between 1 and 65535.", [nameof(Imap)]);
        }
        if (!string.IsNullOrWhiteSpace(Webhooks.SesCertificatePath) && Webhooks.SesTopics.Count == 0)
        {
            yield return new ValidationResult(
                "Bounces:Webhooks:SesTopicArns is required with SesCertificatePath: name the SNS topics SES publishes to (comma-separated), "
                + "e.g. arn:aws:sns:us-east-1:123456789012:pprnet-bounces. SNS signs every account's notifications with the same "
                + "certificate, so only the topic tells yours from anyone else's.", [nameof(Webhooks)]);
        }
        if (string.IsNullOrWhiteSpace(Imap.Folder))
        {
            yield return new ValidationResult("Bounces:Imap:Folder must name a folder, e.g. INBOX.", [nameof(Imap)]);
        }
    }
}

/// <summary>The mailbox the bounce address delivers to. Off while <see cref="Host"/> is empty.</summary>
public sealed class BounceImapOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 143;

    /// <summary>As Smtp:Security: None, StartTls or SslOnConnect.</summary>
    public SmtpSecurity Security { get; set; } = SmtpSecurity.None;

    public string? Username { get; set; }

    public string? Password { get; set; }

    public string Folder { get; set; } = "INBOX";

    /// <summary>How long one IMAP command may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);
}

/// <summary>The sending providers' event webhooks; each is off until its secret is configured.</summary>
public sealed class BounceWebhookOptions
{
    /// <summary>Amazon SES through SNS: the PEM file of SNS's signing certificate (the service may have no network to fetch it).</summary>
    public string? SesCertificatePath { get; set; }

    /// <summary>
    /// Amazon SES through SNS: the ARNs of the topics SES publishes this list's bounces and complaints to (comma-separated).
    /// A notification from any other topic is refused, however well signed: SNS signs every account's topics alike.
    /// </summary>
    public string? SesTopicArns { get; set; }

    /// <summary>The entries of <see cref="SesTopicArns"/>.</summary>
    public IReadOnlySet<string> SesTopics =>
        (SesTopicArns ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);

    /// <summary>Postmark: the basic-auth user and password set in the webhook's URL.</summary>
    public string? PostmarkUsername { get; set; }

    public string? PostmarkPassword { get; set; }

    /// <summary>SendGrid's signed event webhook: its verification key (base64 DER or PEM of the ECDSA public key).</summary>
    public string? SendGridPublicKey { get; set; }

    /// <summary>Mailgun: the HTTP webhook signing key.</summary>
    public string? MailgunSigningKey { get; set; }

    /// <summary>How old a signed timestamp may be (SendGrid, Mailgun) before the event is refused as a replay.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromMinutes(15);
}
