using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Dapper;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Bounces;

/// <summary>
/// The providers' webhooks through the real host, signed with keys and certificates made for the test: a genuine
/// event acts, a missing or forged signature gets 401 and changes nothing, a replay has no second effect.
/// </summary>
public class WebhookTests
{
    const string Reader = "reader@example.org";

    static async Task<(TestApp Test, HttpClient Client, long SubscriberId)> StartAsync(Dictionary<string, string?> config)
    {
        var test = await TestApp.StartWebAsync(config);
        var subscriber = await test.Get<ISubscriberStore>().AddAsync(
            new NewSubscriber(Reader, "Reader", TopicSelection.All), ConsentContext.Admin);
        return (test, test.CreateClient(), subscriber.Id);
    }

    static async Task<string> StatusAsync(TestApp test) => (await test.Get<ISubscriberStore>().FindByEmailAsync(Reader))!.Status;

    static async Task<long> ChangesAsync(TestApp test)
    {
        await using var connection = await test.Get<Db>().OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT (SELECT count(*) FROM consent_events) * 1000 + (SELECT count(*) FROM bounce_reports)");
    }

    static async Task<(HttpStatusCode Status, string Body)> PostAsync(HttpClient client, string path, string body, Action<HttpRequestMessage>? sign = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        sign?.Invoke(request);
        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Every_webhook_is_off_until_configured()
    {
        await using var test = await TestApp.StartWebAsync();
        using var client = test.CreateClient();
        foreach (var provider in new[] { "ses", "postmark", "sendgrid", "mailgun" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(client, $"/webhooks/{provider}", "{}")).Status);
        }
    }

    [Fact]
    public async Task Ses_notifications_are_checked_against_the_configured_signing_certificate()
    {
        using var key = RSA.Create(2048);
        using var forger = RSA.Create(2048);
        var certificate = Path.Combine(Path.GetTempPath(), $"pprnet-sns-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(certificate, new CertificateRequest("CN=sns.us-east-1.amazonaws.com", key, HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30)).ExportCertificatePem());
        var (test, client, _) = await StartAsync(new()
        {
            ["Bounces:Webhooks:SesCertificatePath"] = certificate,
            ["Bounces:Webhooks:SesTopicArns"] = "arn:aws:sns:us-east-1:123456789012:pprnet-complaints, arn:aws:sns:us-east-1:123456789012:pprnet-bounces",
        });
        await using var _ = test;
        using var __ = client;
        try
        {
            var message = JsonSerializer.Serialize(new
            {
                notificationType = "Bounce",
                bounce = new
                {
                    bounceType = "Permanent",
                    bounceSubType = "General",
                    bouncedRecipients = new[] { new { emailAddress = Reader, action = "failed", status = "5.1.1", diagnosticCode = "smtp; 550 5.1.1 user unknown" } },
                },
                mail = new { source = "digest@pprnet.example.org", messageId = "0100018a-ses" },
            });
            string Notification(RSA signer, string messageId = "sns-1", string topic = "arn:aws:sns:us-east-1:123456789012:pprnet-bounces")
            {
                var fields = new SortedDictionary<string, string>(StringComparer.Ordinal)
                {
                    ["Message"] = message,
                    ["MessageId"] = messageId,
                    ["Timestamp"] = "2023-03-03T14:00:00.000Z",
                    ["TopicArn"] = topic,
                    ["Type"] = "Notification",
                };
                var canonical = string.Concat(fields.Select(f => $"{f.Key}\n{f.Value}\n"));
                var signature = signer.SignData(Encoding.UTF8.GetBytes(canonical), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                return JsonSerializer.Serialize(new Dictionary<string, string>(fields)
                {
                    ["SignatureVersion"] = "2",
                    ["Signature"] = Convert.ToBase64String(signature),
                    ["SigningCertURL"] = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-example.pem",
                });
            }

            var unsigned = JsonSerializer.Serialize(new { Type = "Notification", MessageId = "sns-0", Message = message });
            Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, "/webhooks/ses", unsigned)).Status);
            Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, "/webhooks/ses", Notification(forger))).Status);
            // A genuine signature over a changed message.
            var altered = Notification(key).Replace("5.1.1", "5.1.2", StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, "/webhooks/ses", altered)).Status);
            // SNS signs every AWS account's notifications with the same certificate: one from a topic anybody can
            // create and publish to carries a genuine signature, and must change nothing.
            var foreign = Notification(key, "sns-2", "arn:aws:sns:us-east-1:999999999999:anyone-can-publish");
            Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, "/webhooks/ses", foreign)).Status);
            Assert.Equal("confirmed", await StatusAsync(test));

            var genuine = await PostAsync(client, "/webhooks/ses", Notification(key));
            Assert.Equal(HttpStatusCode.OK, genuine.Status);
            Assert.Equal("bounced", await StatusAsync(test));
            var changes = await ChangesAsync(test);

            var replay = await PostAsync(client, "/webhooks/ses", Notification(key));
            Assert.Equal((HttpStatusCode.OK, """{"handled":0,"replays":1}"""), replay);
            Assert.Equal(changes, await ChangesAsync(test));
        }
        finally
        {
            File.Delete(certificate);
        }
    }

    [Fact]
    public async Task Postmark_needs_the_configured_basic_credentials()
    {
        var (test, client, _) = await StartAsync(new() { ["Bounces:Webhooks:PostmarkUsername"] = "postmark", ["Bounces:Webhooks:PostmarkPassword"] = "s3cret-hook" });
        await using var _ = test;
        using var __ = client;
        var complaint = JsonSerializer.Serialize(new { RecordType = "SpamComplaint", ID = 42, Type = "SpamComplaint", Email = Reader });
        void As(HttpRequestMessage request, string user, string password) =>
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, "/webhooks/postmark", complaint)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, "/webhooks/postmark", complaint, r => As(r, "postmark", "guess"))).Status);
        Assert.Equal("confirmed", await StatusAsync(test));

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, "/webhooks/postmark", complaint, r => As(r, "postmark", "s3cret-hook"))).Status);
        Assert.Equal("unsubscribed", await StatusAsync(test));
        Assert.True(await test.Get<ISubscriberStore>().IsSuppressedAsync(Reader));
        var changes = await ChangesAsync(test);
        Assert.Equal("""{"handled":0,"replays":1}""",
            (await PostAsync(client, "/webhooks/postmark", complaint, r => As(r, "postmark", "s3cret-hook"))).Body);
        Assert.Equal(changes, await ChangesAsync(test));
    }

    [Fact]
    public async Task SendGrid_events_are_checked_against_the_configured_ecdsa_key()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (test, client, _) = await StartAsync(new()
        {
            ["Bounces:Webhooks:SendGridPublicKey"] = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()),
            ["Bounces:SoftLimit"] = "2",
        });
        await using var _ = test;
        using var __ = client;
        string Events(string id, string @event = "bounce") => JsonSerializer.Serialize(new[]
        {
            new { email = Reader, timestamp = 1677852000, @event, type = "blocked", sg_event_id = id, reason = "452 4.2.2 Mailbox full", status = "4.2.2" },
        });
        Action<HttpRequestMessage> Sign(ECDsa signer, string body, DateTimeOffset? at = null) => request =>
        {
            var timestamp = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            var signature = signer.SignData(Encoding.UTF8.GetBytes(timestamp + body), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
            request.Headers.Add("X-Twilio-Email-Event-Webhook-Timestamp", timestamp);
            request.Headers.Add("X-Twilio-Email-Event-Webhook-Signature", Convert.ToBase64String(signature));
        };

        var first = Events("sg-1");
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, "/webhooks/sendgrid", first)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, "/webhooks/sendgrid", first, Sign(forger, first))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, "/webhooks/sendgrid", first, Sign(key, first, DateTimeOffset.UtcNow.AddHours(-2)))).Status);
        Assert.Equal(0, await ChangesAsync(test) % 1000);

        // A deferral is one attempt that SendGrid retries (and may yet deliver): however many, none is a bounce.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var deferred = Events($"sg-deferred-{attempt}", "deferred");
            Assert.Equal("""{"handled":0,"replays":0}""", (await PostAsync(client, "/webhooks/sendgrid", deferred, Sign(key, deferred))).Body);
        }
        Assert.Equal("confirmed", await StatusAsync(test));

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, "/webhooks/sendgrid", first, Sign(key, first))).Status);
        // The same blocked message delivered twice counts once: still under the soft limit of 2.
        Assert.Equal("""{"handled":0,"replays":1}""", (await PostAsync(client, "/webhooks/sendgrid", first, Sign(key, first))).Body);
        Assert.Equal("confirmed", await StatusAsync(test));
        var second = Events("sg-2");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, "/webhooks/sendgrid", second, Sign(key, second))).Status);
        Assert.Equal("bounced", await StatusAsync(test));
    }

    [Fact]
    public async Task Mailgun_events_need_a_fresh_hmac_signature_that_is_used_once()
    {
        var signingKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var (test, client, _) = await StartAsync(new() { ["Bounces:Webhooks:MailgunSigningKey"] = signingKey });
        await using var _ = test;
        using var __ = client;
        string Body(string key, string token, string @event, string recipient = Reader)
        {
            var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            var signature = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(timestamp + token)));
            return JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["signature"] = new { timestamp, token, signature },
                ["event-data"] = new Dictionary<string, object>
                {
                    ["event"] = @event,
                    ["id"] = Guid.NewGuid().ToString("N"),
                    ["severity"] = "permanent",
                    ["recipient"] = recipient,
                    ["delivery-status"] = new Dictionary<string, object> { ["code"] = 550, ["message"] = "5.1.1 mailbox does not exist" },
                },
            });
        }

        // A temporary failure is an attempt Mailgun retries: nothing to act on.
        using (var temporary = JsonDocument.Parse("""{"event": "failed", "severity": "temporary", "recipient": "reader@example.org"}"""))
        {
            Assert.Empty(PprnetNewsletter.Bounces.ProviderEvents.Mailgun(temporary.RootElement, "t0"));
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, "/webhooks/mailgun", Body("not-the-key", "t1", "complained"))).Status);
        Assert.Equal("confirmed", await StatusAsync(test));

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, "/webhooks/mailgun", Body(signingKey, "t1", "failed"))).Status);
        Assert.Equal("bounced", await StatusAsync(test));
        // Mailgun signs the token, not the body: the same signature on another event is a replay, not a complaint.
        var changes = await ChangesAsync(test);
        Assert.Equal("""{"handled":0,"replays":1}""", (await PostAsync(client, "/webhooks/mailgun", Body(signingKey, "t1", "complained"))).Body);
        Assert.Equal(changes, await ChangesAsync(test));
        Assert.Equal("bounced", await StatusAsync(test));

        // The signature of an event that is no report (a delivery) is not to be taken again either, with a complaint
        // about somebody else written into its body.
        await test.Get<ISubscriberStore>().AddAsync(new NewSubscriber("other@example.org", "", TopicSelection.All), ConsentContext.Admin);
        var delivered = Body(signingKey, "t2", "delivered", "other@example.org");
        Assert.Equal("""{"handled":0,"replays":0}""", (await PostAsync(client, "/webhooks/mailgun", delivered)).Body);
        var forged = System.Text.Json.Nodes.JsonNode.Parse(delivered)!;
        forged["event-data"]!["event"] = "complained";
        changes = await ChangesAsync(test);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, "/webhooks/mailgun", forged.ToJsonString())).Status);
        Assert.Equal(changes, await ChangesAsync(test));
        Assert.Equal("confirmed", (await test.Get<ISubscriberStore>().FindByEmailAsync("other@example.org"))!.Status);
    }
}
