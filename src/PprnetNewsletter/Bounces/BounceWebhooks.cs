using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Bounces;

/// <summary>What a webhook call did: reports acted on, and those seen before (replays).</summary>
public sealed record WebhookResult(int Handled, int Replays);

/// <summary>
/// The sending providers' webhooks under /webhooks/: Amazon SES (through SNS, signed with a certificate read from
/// Bounces:Webhooks:SesCertificatePath, and only from the topics of Bounces:Webhooks:SesTopicArns), Postmark (basic auth), SendGrid (ECDSA-signed) and Mailgun (HMAC-signed).
/// Each is off (404) until its secret is configured; a request without a valid signature gets 401 and changes
/// nothing; an event seen before has no second effect. The events go to the same <see cref="BounceHandler"/> as the
/// mailbox's reports.
/// </summary>
public static class BounceWebhooks
{
    public static WebApplication MapBounceWebhooks(this WebApplication app)
    {
        // Read the secrets now, so a bad key or certificate file stops start-up with its reason rather than failing a call.
        app.Services.GetRequiredService<WebhookKeys>();
        var webhooks = app.MapGroup("/webhooks").ExcludeFromDescription();
        webhooks.MapPost("/ses", (HttpContext context, WebhookKeys keys, BounceHandler handler, ILogger<WebhookKeys> logger, CancellationToken ct) =>
            ReceiveAsync(context, keys.Ses is not null, body =>
            {
                using var document = JsonDocument.Parse(body);
                var notification = document.RootElement;
                if (!VerifySns(notification, keys.Ses!) || ProviderEvents.Text(notification, "TopicArn") is not { } topic || !keys.SesTopics.Contains(topic))
                {
                    return null;
                }
                var type = ProviderEvents.Text(notification, "Type");
                if (type == "SubscriptionConfirmation")
                {
                    // The service may have no way out to the internet: the administrator confirms by visiting the link.
                    logger.LogWarning("Amazon SNS asks to confirm the subscription of /webhooks/ses to {Topic}: visit {Url}",
                        ProviderEvents.Text(notification, "TopicArn"), ProviderEvents.Text(notification, "SubscribeURL"));
                }
                return type == "Notification"
                    ? ProviderEvents.Ses(ProviderEvents.Text(notification, "MessageId")!, ProviderEvents.Text(notification, "Message")!).ToList()
                    : [];
            }, handler, ct));

        webhooks.MapPost("/postmark", (HttpContext context, WebhookKeys keys, BounceHandler handler, CancellationToken ct) =>
            ReceiveAsync(context, keys.PostmarkCredential is not null, body =>
            {
                if (!FixedTimeEquals(context.Request.Headers.Authorization.ToString(), keys.PostmarkCredential!))
                {
                    return null;
                }
                using var document = JsonDocument.Parse(body);
                return ProviderEvents.Postmark(document.RootElement).ToList();
            }, handler, ct));

        webhooks.MapPost("/sendgrid", (HttpContext context, WebhookKeys keys, BounceHandler handler, TimeProvider time, CancellationToken ct) =>
            ReceiveAsync(context, keys.SendGrid is not null, body =>
            {
                var timestamp = context.Request.Headers["X-Twilio-Email-Event-Webhook-Timestamp"].ToString();
                var signature = context.Request.Headers["X-Twilio-Email-Event-Webhook-Signature"].ToString();
                if (!Fresh(timestamp, time, keys.MaxAge) || !VerifyEcdsa(keys.SendGrid!, Encoding.UTF8.GetBytes(timestamp).Concat(body).ToArray(), signature))
                {
                    return null;
                }
                using var document = JsonDocument.Parse(body);
                return ProviderEvents.SendGrid(document.RootElement).ToList();
            }, handler, ct));

        webhooks.MapPost("/mailgun", (HttpContext context, WebhookKeys keys, MailgunTokens taken, BounceHandler handler, TimeProvider time,
            CancellationToken ct) =>
            ReceiveAsync(context, keys.Mailgun is not null, body =>
            {
                using var document = JsonDocument.Parse(body);
                var root = document.RootElement;
                if (!root.TryGetProperty("signature", out var signed)
                    || ProviderEvents.Text(signed, "timestamp") is not { } timestamp || ProviderEvents.Text(signed, "token") is not { } token
                    || ProviderEvents.Text(signed, "signature") is not { } signature || !Fresh(timestamp, time, keys.MaxAge)
                    || !FixedTimeEquals(signature, Convert.ToHexStringLower(HMACSHA256.HashData(keys.Mailgun!, Encoding.UTF8.GetBytes(timestamp + token)))))
                {
                    return null;
                }
                if (taken.Contains(token))
                {
                    return [];
                }
                var reports = root.TryGetProperty("event-data", out var data) ? ProviderEvents.Mailgun(data, token).ToList() : [];
                if (reports.Count == 0)
                {
                    // A report's token is kept with the report; one of an event that is no report is kept here.
                    taken.Add(token, keys.MaxAge);
                }
                return reports;
            }, handler, ct));
        return app;
    }

    /// <summary>
    /// Reads the body, lets <paramref name="verifyAndParse"/> check the signature (null: refused) and turn the body
    /// into reports, and hands each to the handler. A webhook that is not configured does not exist (404).
    /// </summary>
    static async Task<IResult> ReceiveAsync(HttpContext context, bool configured, Func<byte[], List<IncomingReport>?> verifyAndParse,
        BounceHandler handler, CancellationToken ct)
    {
        if (!configured)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Webhook not configured",
                detail: "This provider's webhook is off until its secret is set under Bounces:Webhooks (see the README).");
        }
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, ct);
        List<IncomingReport>? reports;
        try
        {
            reports = verifyAndParse(buffer.ToArray());
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or KeyNotFoundException or ArgumentException)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not a webhook event",
                detail: $"The body is not the provider's JSON event: {e.Message}");
        }
        if (reports is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Not signed",
                detail: "The request carries no valid signature or credentials for this webhook.");
        }
        int handled = 0, replays = 0;
        foreach (var report in reports)
        {
            if (await handler.HandleAsync(report, ct) == HandlingResult.Handled)
            {
                handled++;
            }
            else
            {
                replays++;
            }
        }
        return Results.Ok(new WebhookResult(handled, replays));
    }

    /// <summary>SNS message signatures, versions 1 (SHA-1) and 2 (SHA-256): RSA PKCS#1 over the canonical field list.</summary>
    static bool VerifySns(JsonElement notification, RSA certificateKey)
    {
        string[] fields = ProviderEvents.Text(notification, "Type") == "Notification"
            ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
            : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
        var canonical = new StringBuilder();
        foreach (var field in fields)
        {
            if (ProviderEvents.Text(notification, field) is { } value)
            {
                canonical.Append(field).Append('\n').Append(value).Append('\n');
            }
        }
        var hash = ProviderEvents.Text(notification, "SignatureVersion") switch
        {
            "1" => HashAlgorithmName.SHA1,
            "2" => HashAlgorithmName.SHA256,
            _ => (HashAlgorithmName?)null,
        };
        return hash is { } algorithm && ProviderEvents.Text(notification, "Signature") is { } signature && TryBase64(signature) is { } bytes
            && certificateKey.VerifyData(Encoding.UTF8.GetBytes(canonical.ToString()), bytes, algorithm, RSASignaturePadding.Pkcs1);
    }

    static bool VerifyEcdsa(ECDsa key, byte[] payload, string signature) =>
        TryBase64(signature) is { } bytes && key.VerifyData(payload, bytes, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    /// <summary>A Unix-seconds timestamp no older (or further ahead) than <paramref name="maxAge"/>: an old signature is not taken again.</summary>
    static bool Fresh(string timestamp, TimeProvider time, TimeSpan maxAge) =>
        long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
        && (time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(Math.Min(seconds, 253402300799))).Duration() <= maxAge;

    static bool FixedTimeEquals(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    static byte[]? TryBase64(string text)
    {
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>
/// The tokens of signed Mailgun events that were no report (a delivery, an open). Mailgun signs the token, not the body,
/// so such a token must not be taken again with a complaint written into the body. A token is kept as long as its
/// signature could pass as fresh (twice Bounces:Webhooks:MaxAge, as a timestamp may be that far either side of now);
/// a restart forgets them.
/// </summary>
public sealed class MailgunTokens(TimeProvider time)
{
    readonly Lock _gate = new();
    readonly Dictionary<string, DateTimeOffset> _forgetAt = new(StringComparer.Ordinal);

    public bool Contains(string token)
    {
        lock (_gate)
        {
            return _forgetAt.ContainsKey(token);
        }
    }

    public void Add(string token, TimeSpan maxAge)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            foreach (var (old, at) in _forgetAt)
            {
                if (at <= now)
                {
                    _forgetAt.Remove(old);
                }
            }
            _forgetAt[token] = now + 2 * maxAge;
        }
    }
}

/// <summary>The webhooks' secrets, read once from Bounces:Webhooks; null for a provider that is not configured.</summary>
public sealed class WebhookKeys
{
    public WebhookKeys(IOptions<BouncesOptions> options, IHostEnvironment environment)
    {
        var webhooks = options.Value.Webhooks;
        MaxAge = webhooks.MaxAge;
        SesTopics = webhooks.SesTopics;
        if (!string.IsNullOrWhiteSpace(webhooks.SesCertificatePath))
        {
            var path = AppHome.Resolve(environment.ContentRootPath, webhooks.SesCertificatePath);
            try
            {
                Ses = X509Certificate2.CreateFromPem(File.ReadAllText(path)).GetRSAPublicKey()
                    ?? throw new InvalidOperationException("the certificate holds no RSA key");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or InvalidOperationException)
            {
                throw new InvalidOperationException(
                    $"Bounces:Webhooks:SesCertificatePath: {path} is not a readable PEM certificate of Amazon SNS ({e.Message}).", e);
            }
        }
        if (!string.IsNullOrEmpty(webhooks.PostmarkUsername) || !string.IsNullOrEmpty(webhooks.PostmarkPassword))
        {
            PostmarkCredential = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{webhooks.PostmarkUsername}:{webhooks.PostmarkPassword}"));
        }
        if (!string.IsNullOrWhiteSpace(webhooks.SendGridPublicKey))
        {
            SendGrid = ECDsa.Create();
            var key = webhooks.SendGridPublicKey.Trim();
            try
            {
                if (key.StartsWith("-----", StringComparison.Ordinal))
                {
                    SendGrid.ImportFromPem(key);
                }
                else
                {
                    SendGrid.ImportSubjectPublicKeyInfo(Convert.FromBase64String(key), out _);
                }
            }
            catch (Exception e) when (e is FormatException or CryptographicException or ArgumentException)
            {
                throw new InvalidOperationException(
                    $"Bounces:Webhooks:SendGridPublicKey is not SendGrid's verification key (base64 or PEM of an ECDSA public key): {e.Message}", e);
            }
        }
        if (!string.IsNullOrWhiteSpace(webhooks.MailgunSigningKey))
        {
            Mailgun = Encoding.UTF8.GetBytes(webhooks.MailgunSigningKey.Trim());
        }
    }

    public RSA? Ses { get; }

    public IReadOnlySet<string> SesTopics { get; }

    public string? PostmarkCredential { get; }

    public ECDsa? SendGrid { get; }

    public byte[]? Mailgun { get; }

    public TimeSpan MaxAge { get; }
}
