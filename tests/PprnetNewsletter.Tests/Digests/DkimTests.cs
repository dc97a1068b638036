using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Digests.DigestTestData;

namespace PprnetNewsletter.Tests.Digests;

public class DkimTests
{
    /// <summary>A fresh RSA key pair: the private key as a PEM file for the service, the public key as a DNS record would give it.</summary>
    static (string KeyPath, string DnsRecord) GenerateKey(string folder)
    {
        using var rsa = RSA.Create(2048);
        var path = Path.Combine(folder, "dkim.pem");
        File.WriteAllText(path, rsa.ExportRSAPrivateKeyPem());
        return (path, "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()));
    }

    /// <summary>Configuration that signs for pprnet.example.org with the key at <paramref name="keyPath"/>, added to <paramref name="config"/>.</summary>
    static Dictionary<string, string?> Signing(string keyPath, string selector = "mail2023", Dictionary<string, string?>? config = null)
    {
        config ??= [];
        config["Dkim:Domain"] = "pprnet.example.org";
        config["Dkim:Selector"] = selector;
        config["Dkim:PrivateKeyPath"] = keyPath;
        return config;
    }

    /// <summary>An app that signs with a key made in <paramref name="folder"/>, the test edition prepared, and the key's DNS record.</summary>
    static async Task<(TestApp Test, EditionMessages Edition, string Record)> SigningEditionAsync(string folder)
    {
        var (keyPath, record) = GenerateKey(folder);
        var test = await TestApp.CreateAsync(Signing(keyPath));
        await SeedAsync(test);
        return (test, (await Factory(test).PrepareAsync(Month))!, record);
    }

    sealed class Dns(string record) : DkimPublicKeyLocatorBase
    {
        public string? Asked { get; private set; }

        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default)
        {
            Asked = $"{selector}._domainkey.{domain}";
            return GetPublicKey(record);
        }

        public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(LocatePublicKey(methods, domain, selector, cancellationToken));
    }

    [Fact]
    public async Task A_signed_digest_verifies_and_a_one_byte_change_breaks_the_signature()
    {
        var folder = Directory.CreateTempSubdirectory("pprnet-dkim").FullName;
        try
        {
            var (test, edition, record) = await SigningEditionAsync(folder);
            await using var _ = test;

            var (message, raw) = RoundTrip(edition.Compose(await RecipientAsync(test, Ann), 0)!);

            var signature = message.Headers.Single(h => h.Id == HeaderId.DkimSignature);
            var tags = signature.Value.Replace("\r\n", "").Replace(" ", "").Replace("\t", "");
            Assert.Contains("a=rsa-sha256", tags);
            Assert.Contains("c=relaxed/relaxed", tags);
            Assert.Contains("d=pprnet.example.org", tags);
            Assert.Contains("s=mail2023", tags);
            var signed = tags.Split(';').Single(t => t.StartsWith("h=", StringComparison.Ordinal))[2..].Split(':');
            foreach (var header in new[] { "from", "to", "subject", "date", "message-id", "mime-version", "content-type",
                         "list-id", "list-unsubscribe", "list-unsubscribe-post", "feedback-id" })
            {
                Assert.Contains(header, signed, StringComparer.OrdinalIgnoreCase);
            }

            var dns = new Dns(record);
            var verifier = new DkimVerifier(dns);
            Assert.True(await verifier.VerifyAsync(message, signature));
            Assert.Equal("mail2023._domainkey.pprnet.example.org", dns.Asked);

            // The sending engine signs from several threads at once: every signature must still hold.
            var ann = await RecipientAsync(test, Ann);
            var bob = await RecipientAsync(test, Bob);
            var parallel = new MimeMessage[40];
            Parallel.For(0, parallel.Length, i => parallel[i] = RoundTrip(edition.Compose(i % 2 == 0 ? ann : bob, i)!).Message);
            foreach (var signedInParallel in parallel)
            {
                Assert.True(await verifier.VerifyAsync(signedInParallel, signedInParallel.Headers.Single(h => h.Id == HeaderId.DkimSignature)));
            }

            // One byte of the body changed in transit: "Dear" becomes "Bear".
            var text = Encoding.ASCII.GetString(raw);
            var at = text.IndexOf("Dear Dr. Ann Smith", text.IndexOf("\r\n\r\n", StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.True(at > 0);
            var tampered = (byte[])raw.Clone();
            tampered[at] = (byte)'B';
            var changed = MimeMessage.Load(new MemoryStream(tampered));
            Assert.False(await verifier.VerifyAsync(changed, changed.Headers.Single(h => h.Id == HeaderId.DkimSignature)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("From", "From: Someone Else <ceo@pprnet.example.org>")]
    [InlineData("To", "To: another@example.org")]
    [InlineData("Subject", "Subject: Your account is suspended")]
    [InlineData("Date", "Date: Mon, 1 Jan 2024 00:00:00 +0000")]
    [InlineData("Message-ID", "Message-ID: <other@pprnet.example.org>")]
    [InlineData("List-Unsubscribe", "List-Unsubscribe: <https://evil.example/u>")]
    [InlineData("List-Unsubscribe-Post", "List-Unsubscribe-Post: List-Unsubscribe=One-Click")]
    public async Task A_second_instance_of_an_identity_or_list_header_added_in_transit_breaks_the_signature(string name, string added)
    {
        var folder = Directory.CreateTempSubdirectory("pprnet-dkim").FullName;
        try
        {
            var (test, edition, record) = await SigningEditionAsync(folder);
            await using var _ = test;
            var (message, raw) = RoundTrip(edition.Compose(await RecipientAsync(test, Ann), 0)!);
            var verifier = new DkimVerifier(new Dns(record));
            Assert.True(await verifier.VerifyAsync(message, message.Headers.Single(h => h.Id == HeaderId.DkimSignature)));
            var signed = message.Headers.Single(h => h.Id == HeaderId.DkimSignature).Value.Replace(" ", "").Replace("\r\n", "").Replace("\t", "");
            var listed = signed.Split(';').Single(t => t.TrimStart().StartsWith("h=", StringComparison.Ordinal)).Trim()[2..].Split(':');
            Assert.Equal(2, listed.Count(h => h.Equals(name, StringComparison.OrdinalIgnoreCase)));

            // Prepended, where a receiver that reads the first instance would take it for the real one.
            var prepended = MimeMessage.Load(new MemoryStream([.. Encoding.ASCII.GetBytes(added + "\r\n"), .. raw]));

            Assert.False(await verifier.VerifyAsync(prepended, prepended.Headers.Single(h => h.Id == HeaderId.DkimSignature)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Sent_over_smtp_a_signed_digest_arrives_byte_for_byte_with_its_dotted_lines_and_verifies()
    {
        var folder = Directory.CreateTempSubdirectory("pprnet-dkim").FullName;
        try
        {
            var (keyPath, record) = GenerateKey(folder);
            await using var smtp = await SmtpTestServer.StartAsync();
            await using var test = await TestApp.CreateAsync(Signing(keyPath, config: smtp.ClientConfig(connections: 1)));
            await SeedAsync(test);
            // Lines that SMTP would have to double the dot of, or that would end the message early, as they stand.
            const string dotted = "\n\n.\n\n...and a line that starts with dots.\n\n. A dot, then a space.";
            await using (var connection = await test.Get<Db>().OpenAsync())
            {
                await connection.ExecuteAsync("UPDATE summaries SET body_text = body_text || @dotted", new { dotted });
            }
            var edition = await Factory(test).PrepareAsync(Month);
            using var composed = edition!.Compose(await RecipientAsync(test, Ann), 0)!;
            var (_, expected) = RoundTrip(composed);

            test.Get<IMailTransport>().Send(composed, CancellationToken.None);

            var received = Assert.Single(smtp.Received);
            // The server keeps the data without the line break that the end-of-data line (CRLF . CRLF) begins with.
            Assert.Equal(Encoding.ASCII.GetString(expected), Encoding.ASCII.GetString(received.Raw) + "\r\n");
            var text = received.Message.TextBody!.ReplaceLineEndings("\n");
            Assert.Contains("\n.\n", text);
            Assert.Contains("\n...and a line that starts with dots.\n", text);
            Assert.Contains("\n. A dot, then a space.\n", text);
            var signature = received.Message.Headers.Single(h => h.Id == HeaderId.DkimSignature);
            Assert.True(await new DkimVerifier(new Dns(record)).VerifyAsync(received.Message, signature));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_missing_key_file_stops_start_up_naming_the_key()
    {
        var missing = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "dkim.pem");

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestApp.CreateAsync(Signing(missing, "s1")));

        Assert.Contains("Dkim:PrivateKeyPath", error.Message);
        Assert.Contains(missing, error.Message);
    }

    [Fact]
    public async Task A_file_that_is_not_a_key_stops_start_up_naming_the_key()
    {
        var folder = Directory.CreateTempSubdirectory("pprnet-dkim").FullName;
        try
        {
            var path = Path.Combine(folder, "not-a-key.pem");
            File.WriteAllText(path, "hello");

            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestApp.CreateAsync(Signing(path, "s1")));

            Assert.Contains($"Dkim:PrivateKeyPath: {path}", error.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Half_a_dkim_configuration_is_refused()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestApp.CreateAsync(new Dictionary<string, string?>() { ["Dkim:Domain"] = "pprnet.example.org" }));

        Assert.Contains("Dkim:Domain, Dkim:Selector and Dkim:PrivateKeyPath must be set together", error.Message);
    }
}
