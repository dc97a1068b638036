using System.Net;
using System.Text;
using MimeKit;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Digests.DigestTestData;

namespace PprnetNewsletter.Tests.Digests;

/// <summary>
/// The bodies travel quoted-printable, encoded once per variant with each reader's values spliced in: what a mail
/// client decodes must be exactly the rendered template with the reader's values filled in, for every variant and
/// every kind of name, and the message must keep to the line rules of RFC 2045 and RFC 5322.
/// </summary>
public class EncodedBodyTests
{
    static readonly string LongName = string.Concat(Enumerable.Repeat("Maria-José Łukasiewicz-Ōtomo 山田 ", 8)).Trim();

    /// <summary>Names and addresses that stress the encoding: non-ASCII, QP's '=', markup, spaces, length, none.</summary>
    static readonly (string Name, string Email)[] Readers =
    [
        ("Dr. Ann Smith", "ann.smith@example.org"),
        ("Chloé Tremblay-Bélanger", "chloe@example.ca"),
        ("王小明 中文", "wang@example.cn"),
        ("Sam 🧠🌈 Rivers 👩‍⚕️", "sam@example.org"),
        ("A=B & <C> \"D\" 'E' =3D=", "o'neil=x&y=3D@example.org"),
        ("  Spaces   Around  ", "spaces@example.org"),
        (LongName, "long.name.with.many.parts.to.be.long.enough@sub.domain.example.org"),
        ("", "nameless@example.org"),
    ];

    [Fact]
    public async Task Every_variant_decodes_to_the_rendered_template_with_the_readers_values_filled_in()
    {
        await using var test = await TestApp.CreateAsync(new Dictionary<string, string?> { ["Digest:SendWhenNoMatch"] = "true" });
        await SeedAsync(test);
        var edition = (await Factory(test).PrepareAsync(Month))!;
        var summaries = edition.Edition.Summaries;
        var rendered = new Dictionary<(ulong, bool), (string Html, string Text)>();

        for (var mask = 0UL; mask < 1UL << summaries.Count; mask++)
        {
            // Each seeded summary has topics of its own: its first topic selects it alone.
            var selected = mask;
            List<long> topicIds = [.. Enumerable.Range(0, summaries.Count).Where(i => (selected & (1UL << i)) != 0).Select(i => summaries[i].Topics[0].Id)];
            foreach (var (name, email, id) in Readers.Select((r, i) => (r.Name, r.Email, 100L + i)))
            {
                var hasName = name.Trim().Length > 0;
                if (!rendered.TryGetValue((mask, hasName), out var template))
                {
                    template = rendered[(mask, hasName)] = await RenderAsync(test, edition, mask, topicIds, hasName);
                }
                var values = new Dictionary<Slot, string>
                {
                    [Slot.Name] = name.Trim(),
                    [Slot.Email] = email,
                    [Slot.Topics] = ReaderValues.DescribeTopics(false, topicIds, summaries.SelectMany(s => s.Topics).ToDictionary(t => t.Id, t => t.Name)),
                    [Slot.Unsubscribe] = UnsubscribeUrl(test, id),
                    [Slot.Preferences] = PreferencesUrl(test, id),
                };

                var (message, raw) = RoundTrip(edition.Compose(new Recipient(id, email, name, false, topicIds), 0)!);

                var because = $"variant {mask}, reader '{name}'";
                Assert.True(ExpectedHtml(template.Html, values) == message.HtmlBody, because);
                Assert.True(ExpectedText(template.Text, values) == message.TextBody, because);
                AssertLineRules(message, raw);
            }
        }
    }

    [Fact]
    public async Task Confirmation_and_preference_emails_keep_the_line_rules_and_decode_with_the_readers_values()
    {
        await using var test = await TestApp.CreateAsync();
        await SeedAsync(test);
        var emails = test.Get<SubscriptionEmails>();
        var dan = (await test.Get<ISubscriberStore>().GetAsync(Dan))! with { Name = "Dan =?utf-8?q?x?= Ōtomo & <b>", Email = "dan=x&y@example.org" };

        foreach (var sent in new[] { await emails.ConfirmationAsync(dan, "tok_EN-123"), await emails.ManagePreferencesAsync(dan) })
        {
            var (message, raw) = RoundTrip(sent);

            Assert.Contains("Dear Dan =?utf-8?q?x?= Ōtomo &amp; &lt;b&gt;,", message.HtmlBody);
            Assert.Contains("Dear Dan =?utf-8?q?x?= Ōtomo & <b>,", message.TextBody);
            Assert.Contains("dan=x&amp;y@example.org", message.HtmlBody);
            Assert.Contains("dan=x&y@example.org", message.TextBody);
            AssertLineRules(message, raw);
        }
    }

    [Theory]
    [InlineData("plain ASCII, one line")]
    [InlineData("trailing space \nand tab\t\r\nand both \t\n")]
    [InlineData("a = sign, =3D, and =\n")]
    [InlineData("\n\nblank lines first\n\n\n")]
    [InlineData("lone \r carriage return and a control \u0001 character")]
    [InlineData("1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890")]
    [InlineData("é1234567890123456789012345678901234567890123456789012345678901234567890123=4é5678901234567890")]
    [InlineData("                                                                                                    \n")]
    [InlineData("中文 🧠 ünïcödé ")]
    [InlineData(".a dot first\n.\n..two dots\r\n. and a space")]
    [InlineData("123456789012345678901234567890123456789012345678901234567890123456789012345.a dot after the soft line break")]
    [InlineData("")]
    public void A_segment_decodes_to_its_text_and_ends_at_the_start_of_a_line(string text)
    {
        var encoded = QuotedPrintable.Encode(text);

        var ascii = Encoding.ASCII.GetString(encoded);
        Assert.True(ascii.Length == 0 || ascii.EndsWith("\r\n", StringComparison.Ordinal), ascii);
        AssertQuotedPrintableLines(encoded);
        // Segments concatenate: the same text twice decodes to the text twice.
        var twice = encoded.Concat(encoded).ToArray();
        Assert.Equal(Expected(text) + Expected(text), Decode(twice));

        static string Expected(string text) => text.Replace("\r\n", "\n").Replace("\n", "\r\n");
    }

    static string Decode(byte[] encoded)
    {
        using var decoded = new MemoryStream();
        new MimeContent(new MemoryStream(encoded), ContentEncoding.QuotedPrintable).DecodeTo(decoded);
        return Encoding.UTF8.GetString(decoded.ToArray());
    }

    static async Task<(string Html, string Text)> RenderAsync(TestApp test, EditionMessages edition, ulong mask, IReadOnlyList<long> topicIds, bool hasName)
    {
        var model = edition.Model(mask, edition.TopicMask(allTopics: false, topicIds), hasName);
        var (html, text) = await test.Get<EmailTemplates>().RenderAsync(EmailTemplates.Digest, model);
        return (test.Get<EmailRenderer>().InlineCss(EmailTemplates.Digest, html), text);
    }

    static string Fill(string template, IReadOnlyDictionary<Slot, string> values, Func<string, string> escape)
    {
        foreach (var (slot, value) in values)
        {
            template = template.Replace(Placeholders.Of(slot), escape(value), StringComparison.Ordinal);
        }
        return template;
    }

    static string ExpectedHtml(string template, IReadOnlyDictionary<Slot, string> values) =>
        Lf(Fill(template, values, WebUtility.HtmlEncode));

    /// <summary>One blank line between paragraphs; each line wrapped at 78 columns once the reader's values are in.</summary>
    static string ExpectedText(string template, IReadOnlyDictionary<Slot, string> values)
    {
        var text = new StringBuilder();
        var previousBlank = true;
        foreach (var line in TextWrap.Lines(template))
        {
            var blank = string.IsNullOrWhiteSpace(line);
            if (!(blank && previousBlank))
            {
                TextWrap.AppendWrapped(text, Fill(line, values, v => v));
            }
            previousBlank = blank;
        }
        return Lf(text.ToString());
    }

    /// <summary>A decoded <see cref="TextPart.Text"/> ends its lines with LF, whatever travelled.</summary>
    static string Lf(string text) => text.Replace("\r\n", "\n");

    /// <summary>CRLF line ends only, no line over 78 octets, and the quoted-printable bodies within RFC 2045's 76.</summary>
    static void AssertLineRules(MimeMessage message, byte[] raw)
    {
        var lines = Encoding.ASCII.GetString(raw).Split("\r\n");
        var headerLines = Array.IndexOf(lines, "");
        Assert.All(lines.Select((line, i) => (line, i)), l =>
        {
            Assert.DoesNotContain('\n', l.line);
            Assert.DoesNotContain('\r', l.line);
            // The message's headers are MimeKit's to fold, and a long link in List-Unsubscribe cannot be folded: they keep
            // to RFC 5322's limit. The body keeps to its recommendation.
            Assert.True(l.line.Length <= (l.i < headerLines ? 998 : 78), $"{l.line.Length} octets: {l.line}");
        });
        Assert.All(message.BodyParts.OfType<TextPart>(), part =>
        {
            Assert.Equal(ContentEncoding.QuotedPrintable, part.ContentTransferEncoding);
            using var encoded = new MemoryStream();
            var content = part.Content!.Stream!;
            content.Position = 0;
            content.CopyTo(encoded);
            AssertQuotedPrintableLines(encoded.ToArray());
        });
    }

    /// <summary>
    /// ASCII, at most 76 characters a line, no bare CR or LF, no unencoded space or tab before a line break, and no line
    /// that starts with a dot (SMTP would have to double it).
    /// </summary>
    static void AssertQuotedPrintableLines(byte[] encoded)
    {
        Assert.All(encoded, b => Assert.True(b is (>= 33 and <= 126) or (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n', $"octet {b}"));
        var text = Encoding.ASCII.GetString(encoded);
        var lines = text.Split("\r\n");
        Assert.All(lines, line =>
        {
            Assert.DoesNotContain('\n', line);
            Assert.DoesNotContain('\r', line);
            Assert.True(line.Length <= 76, $"{line.Length} characters: {line}"); // RFC 2045 §6.7 rule 5
            Assert.False(line.EndsWith(' ') || line.EndsWith('\t'), $"unencoded whitespace at the end of: {line}");
            Assert.False(line.StartsWith('.'), $"a dot starts: {line}");
        });
    }
}
