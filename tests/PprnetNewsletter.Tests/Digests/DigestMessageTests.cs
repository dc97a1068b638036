using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Digests.DigestTestData;

namespace PprnetNewsletter.Tests.Digests;

/// <summary>Digests composed for the sending engine, serialised and parsed back: every format rule of the message.</summary>
public partial class DigestMessageTests
{
    static readonly DateTimeOffset Now = new(2023, 3, 1, 14, 0, 0, TimeSpan.Zero);

    static async Task<(TestApp Test, EditionMessages Edition)> PrepareAsync(Dictionary<string, string?>? config = null)
    {
        var test = await TestApp.CreateAsync(config);
        await SeedAsync(test);
        var edition = await Factory(test, new FakeTimeProvider(Now)).PrepareAsync(Month);
        return (test, edition!);
    }

    static async Task<(MimeMessage Message, byte[] Raw)> ComposeAsync(TestApp test, EditionMessages edition, long subscriberId, int resend = 0) =>
        RoundTrip(edition.Compose(await RecipientAsync(test, subscriberId), resend)!);

    [Fact]
    public async Task A_digest_is_multipart_alternative_text_then_html_in_utf8_quoted_printable()
    {
        var (test, edition) = await PrepareAsync();
        await using var _ = test;

        var (message, raw) = await ComposeAsync(test, edition, Ann);

        var body = Assert.IsType<MultipartAlternative>(message.Body);
        Assert.Equal(2, body.Count);
        var text = Assert.IsType<TextPart>(body[0]);
        var html = Assert.IsType<TextPart>(body[1]);
        Assert.Equal("text/plain", text.ContentType.MimeType);
        Assert.Equal("text/html", html.ContentType.MimeType);
        Assert.All([text, html], part =>
        {
            Assert.Equal("utf-8", part.ContentType.Charset, ignoreCase: true);
            Assert.Equal(ContentEncoding.QuotedPrintable, part.ContentTransferEncoding);
        });
        Assert.All(Lines(raw), line => Assert.True(line.Length <= 998, $"a line of {line.Length} octets"));
        Assert.True(raw.Length < 102 * 1024, $"the message is {raw.Length} bytes");
        Assert.True(Encoding.UTF8.GetByteCount(message.HtmlBody!) < 102 * 1024);
    }

    [Fact]
    public async Task The_body_writes_byte_for_byte_what_MimeKit_writes_for_the_same_two_parts_with_either_line_ending()
    {
        var (test, edition) = await PrepareAsync();
        await using var _ = test;
        var message = edition.Compose(await RecipientAsync(test, Ann), 0)!;
        var body = Assert.IsType<EncodedAlternative>(message.Body);

        // The same parts, as plain MimeKit objects with copies of their content, under the same boundary.
        var reference = new MultipartAlternative { Boundary = body.Boundary! };
        foreach (var part in body.Cast<TextPart>())
        {
            using var content = new MemoryStream();
            part.Content!.WriteTo(content);
            var copy = new TextPart(part.ContentType.MediaSubtype)
            {
                ContentTransferEncoding = ContentEncoding.QuotedPrintable,
                Content = new MimeContent(new MemoryStream(content.ToArray()), ContentEncoding.QuotedPrintable),
            };
            copy.ContentType.Charset = "utf-8";
            reference.Add(copy);
        }

        foreach (var lineEnds in new[] { NewLineFormat.Dos, NewLineFormat.Unix })
        {
            // As MailKit's SMTP client writes a message: Bcc hidden, a new line at the end.
            var options = FormatOptions.Default.Clone();
            options.NewLineFormat = lineEnds;
            options.HiddenHeaders.Add(HeaderId.Bcc);
            options.EnsureNewLine = true;
            var expected = await WriteAsync(reference);
            Assert.Equal(Encoding.ASCII.GetString(expected), Encoding.ASCII.GetString(await WriteAsync(body)));
            Assert.Equal(expected, Write(body));

            async Task<byte[]> WriteAsync(MimeEntity entity)
            {
                message.Body = entity;
                using var stream = new MemoryStream();
                await message.WriteToAsync(options, stream);
                return stream.ToArray();
            }

            byte[] Write(MimeEntity entity)
            {
                message.Body = entity;
                using var stream = new MemoryStream();
                message.WriteTo(options, stream);
                return stream.ToArray();
            }
        }

        // A boundary set afterwards is the one written: MimeKit writes the parts then.
        var text = body.TextBody;
        body.Boundary = "=-another-boundary";
        var (parsed, raw) = RoundTrip(message);
        Assert.Contains("--=-another-boundary--", Encoding.ASCII.GetString(raw));
        Assert.Equal(text, parsed.TextBody);
    }

    [Fact]
    public async Task A_disposed_message_gives_its_body_buffer_back_for_the_next_reader_and_cannot_be_written_again()
    {
        var (test, edition) = await PrepareAsync();
        await using var _ = test;
        var ann = await RecipientAsync(test, Ann);
        var bob = await RecipientAsync(test, Bob);

        var (_, annBefore) = RoundTrip(edition.Compose(ann, 0)!);
        var bobs = edition.Compose(bob, 0)!;
        bobs.Dispose();
        Assert.Throws<ObjectDisposedException>(() => bobs.WriteTo(Stream.Null));

        // The next message may get the same buffer: it carries its own reader's body, exactly, nothing of the last one's.
        var (_, raw) = RoundTrip(edition.Compose(ann, 0)!);
        Assert.Equal(Encoding.ASCII.GetString(annBefore), Encoding.ASCII.GetString(raw));

        // Composing with disposal allocates less than without by about a body per message: the buffer is reused.
        const int messages = 50;
        var bodyLength = raw.Length;
        var kept = AllocatedBy(() => edition.Compose(ann, 0));
        var disposed = AllocatedBy(() => edition.Compose(ann, 0)!.Dispose());
        Assert.True(kept - disposed > messages * bodyLength / 2,
            $"{messages} messages allocated {kept:N0} bytes kept and {disposed:N0} disposed; a body is {bodyLength:N0}");

        static long AllocatedBy(Action compose)
        {
            compose(); // the first rent of a size fills the pool
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < messages; i++)
            {
                compose();
            }
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
    }

    [Fact]
    public async Task Headers_identify_sender_reader_edition_and_list()
    {
        var (test, edition) = await PrepareAsync();
        await using var _ = test;

        var (message, _) = await ComposeAsync(test, edition, Ann);

        var from = Assert.Single(message.From.Mailboxes);
        Assert.Equal(("PPRNet Research Digest", "digest@pprnet.example.org"), (from.Name, from.Address));
        var to = Assert.Single(message.To.Mailboxes);
        Assert.Equal(("Dr. Ann Smith", "ann.smith@example.org"), (to.Name, to.Address));
        Assert.Equal("PPRNet research digest, March 2023: 2 summaries on your topics", message.Subject);
        Assert.Equal(Now, message.Date);
        Assert.Matches(@"^2023-03\.1\.[0-9a-f]{10}@pprnet\.example\.org$", message.MessageId);
        Assert.Equal("1.0", message.Headers[HeaderId.MimeVersion]);
        Assert.Equal("PPRNet Research Digest <digest.pprnet.example.org>", message.Headers["List-Id"]);
        Assert.Equal(
            $"<{UnsubscribeUrl(test, Ann)}>, <mailto:digest@pprnet.example.org?subject=unsubscribe-{Token(test, Ann, LinkPurpose.Unsubscribe)}>",
            Unfold(message.Headers["List-Unsubscribe"]!));
        Assert.Equal("List-Unsubscribe=One-Click", message.Headers["List-Unsubscribe-Post"]);
        Assert.Equal("2023-03:digest:pprnet", message.Headers["Feedback-ID"]);
    }

    [Fact]
    public async Task The_unsubscribe_and_preference_links_carry_tokens_for_this_reader_and_purpose()
    {
        var (test, edition) = await PrepareAsync();
        await using var _ = test;
        var tokens = test.Get<LinkTokens>();

        var (message, _) = await ComposeAsync(test, edition, Bob);

        var unsubscribe = Regex.Match(message.Headers["List-Unsubscribe"]!, "<https://news.example.org/u/([^>]+)>").Groups[1].Value;
        var preferences = Regex.Match(message.HtmlBody!, "https://news.example.org/preferences/([^\"/]+)").Groups[1].Value;
        Assert.True(tokens.TryVerify(unsubscribe, LinkPurpose.Unsubscribe, out var id) && id == Bob);
        Assert.True(tokens.TryVerify(preferences, LinkPurpose.Preferences, out id) && id == Bob);
        Assert.False(tokens.TryVerify(unsubscribe, LinkPurpose.Preferences, out var _));
    }

    [Fact]
    public async Task The_message_id_is_the_same_for_a_retry_and_new_for_each_resend()
    {
        var (test, edition) = await PrepareAsync();
        await using var _ = test;
        var ann = await RecipientAsync(test, Ann);

        var first = edition.Compose(ann, 0)!.MessageId;
        var retry = edition.Compose(ann, 0)!.MessageId;
        var resend = edition.Compose(ann, 1)!.MessageId;
        var second = edition.Compose(ann, 2)!.MessageId;
        var bob = edition.Compose(await RecipientAsync(test, Bob), 0)!.MessageId;

        Assert.Equal(first, retry);
        Assert.Matches(@"^2023-03\.1\.r1\.[0-9a-f]{10}@pprnet\.example\.org$", resend);
        Assert.Matches(@"^2023-03\.1\.r2\.[0-9a-f]{10}@pprnet\.example\.org$", second);
        Assert.Equal(4, new[] { first, resend, second, bob }.Distinct().Count());
    }

    [Fact]
    public async Task The_html_has_the_readers_summaries_in_full_and_the_rest_under_also_this_month()
    {
        var (test, edition) = await PrepareAsync();
        await using var _ = test;

        var (message, _) = await ComposeAsync(test, edition, Ann);
        var html = message.HtmlBody!;

        Assert.Contains("Dear Dr. Ann Smith,", html);
        Assert.Contains("March 2023", html);
        Assert.Matches("You receive summaries on: <strong[^>]*>Depression and Depressive Symptoms, Training</strong>", html);
        var also = html.IndexOf("Also this month", StringComparison.Ordinal);
        Assert.True(also > 0);
        Assert.InRange(html.IndexOf(Mentalize, StringComparison.Ordinal), 0, also);
        Assert.InRange(html.IndexOf(Alliance, StringComparison.Ordinal), html.IndexOf(Mentalize, StringComparison.Ordinal), also);
        Assert.True(html.IndexOf(NegativeEffects, StringComparison.Ordinal) > also);
        Assert.Contains("Journal of Counseling Psychology, 68(6), 705–718.", html);
        Assert.Contains("Research type: Quantitative", html);
        Assert.Contains("Practice Implications", html);
        Assert.Contains("Gauge mentalizing early &amp; support it.", html);
        Assert.Contains(">Psychodynamic Therapy (PDT)</span>", html);
        Assert.Matches(@"<li[^>]*>Depression fell \(d = 1\.47\)\.</li>", html);
        Assert.Contains("""href="https://news.example.org/archive/2023-03#negative-effects" """, html);
        Assert.Matches("""href="https://news.example.org/archive/2023-03"[^>]*>View in browser</a>""", html);
        // The edition's other summaries appear once, as a title in the list; their bodies do not.
        Assert.Equal(2, Regex.Count(html, "Practice Implications"));
    }

    [Fact]
    public async Task The_html_follows_email_rules_with_css_inlined_and_only_absolute_links()
    {
        var (test, edition) = await PrepareAsync();
        await using var _ = test;

        var (message, _) = await ComposeAsync(test, edition, Ann);
        var html = message.HtmlBody!;

        Assert.Contains("<html lang=\"en\">", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        var tables = TableTag().Matches(html);
        Assert.NotEmpty(tables);
        Assert.All(tables, t => Assert.Contains("role=\"presentation\"", t.Value));
        Assert.All(WidthAttribute().Matches(html), w => Assert.True(w.Groups[1].Value == "100%" || int.Parse(w.Groups[1].Value) <= 600, w.Value));
        Assert.Matches("""<table role="presentation" class="container" width="600"[^>]*max-width: 600px""", html);
        Assert.Matches("<div style=\"display: none;[^\"]*\">" + Regex.Escape(Mentalize), html); // hidden preheader
        Assert.Matches("<td class=\"masthead\" style=\"[^\"]*background-color: #1e3a5f", html);   // CSS inlined
        // What was inlined leaves the <style> block; the media query, which cannot be inlined, stays.
        var style = Assert.Single(Regex.Matches(html, "<style[^>]*>(.*?)</style>", RegexOptions.Singleline)).Groups[1].Value;
        Assert.StartsWith("@media only screen and (max-width: 620px)", style.Trim());
        Assert.Contains(".container { width: 100% !important; }", style);
        Assert.DoesNotContain("#1e3a5f", style);
        var links = HrefAttribute().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(links);
        Assert.All(links, l => Assert.True(l.StartsWith("https://news.example.org/", StringComparison.Ordinal) || l.StartsWith("mailto:", StringComparison.Ordinal), l));
    }

    [Fact]
    public async Task Every_email_carries_the_casl_footer()
    {
        var (test, edition) = await PrepareAsync();
        await using var _ = test;

        var (message, _) = await ComposeAsync(test, edition, Ann);

        foreach (var body in new[] { message.HtmlBody!, Unwrap(message.TextBody!) })
        {
            Assert.Contains("PPRNet Research Digest", body);
            Assert.Contains("100 Example Street, Ottawa, ON K1A 0A1, Canada", body);
            Assert.Contains("pprnet@example.org", body);
            Assert.Contains("because you subscribed to the PPRNet research digest as ann.smith@example.org", body);
            Assert.Contains(UnsubscribeUrl(test, Ann), body);
            Assert.Contains(PreferencesUrl(test, Ann), body);
        }
    }

    [Fact]
    public async Task The_plain_text_has_the_same_content_wrapped_at_78_columns_with_full_urls()
    {
        var (test, edition) = await PrepareAsync();
        await using var _ = test;

        var (message, _) = await ComposeAsync(test, edition, Ann);
        var text = message.TextBody!;

        Assert.All(text.Split('\n').Select(l => l.TrimEnd('\r')), line =>
            Assert.True(line.Length <= 78 || !line.Trim().Contains(' ') && line.Trim().StartsWith("https://", StringComparison.Ordinal),
                $"{line.Length} columns: {line}"));
        var unwrapped = Unwrap(text);
        Assert.Contains("Dear Dr. Ann Smith,", unwrapped);
        Assert.Contains("You receive summaries on: Depression and Depressive Symptoms, Training", unwrapped);
        Assert.Contains(Mentalize, unwrapped);
        Assert.Contains(Alliance, unwrapped);
        Assert.Contains("PRACTICE IMPLICATIONS", unwrapped);
        Assert.Contains("Gauge mentalizing early & support it.", unwrapped);
        Assert.Contains("Research type: Quantitative", unwrapped);
        Assert.Contains("Topics: Depression and Depressive Symptoms, Psychodynamic Therapy (PDT)", unwrapped);
        Assert.Contains("View in browser: https://news.example.org/archive/2023-03", unwrapped);
        var also = unwrapped.IndexOf("ALSO THIS MONTH", StringComparison.Ordinal);
        Assert.True(unwrapped.IndexOf(NegativeEffects, StringComparison.Ordinal) > also);
        Assert.Contains("https://news.example.org/archive/2023-03#negative-effects", unwrapped);
        Assert.DoesNotContain("<", text);
    }

    [Fact]
    public async Task A_reader_without_a_name_is_greeted_hello_and_all_topics_is_said_so()
    {
        var (test, edition) = await PrepareAsync();
        await using var _ = test;

        var (message, _) = await ComposeAsync(test, edition, Bob);

        Assert.Equal("bob@example.org", Assert.Single(message.To.Mailboxes).Address);
        Assert.Matches("<p[^>]*>Hello,</p>", message.HtmlBody);
        Assert.DoesNotContain("Dear", message.HtmlBody);
        Assert.Contains("all topics", message.HtmlBody);
        Assert.Equal("PPRNet research digest, March 2023: 3 summaries on your topics", message.Subject);
        Assert.DoesNotContain("Also this month", message.HtmlBody);
    }

    [Fact]
    public async Task No_match_is_skipped_and_the_optional_note_lists_the_months_titles()
    {
        var (test, edition) = await PrepareAsync();
        await using (test)
        {
            Assert.Null(edition.Compose(await RecipientAsync(test, Carol), 0));
        }

        var (withNote, noteEdition) = await PrepareAsync(new() { ["Digest:SendWhenNoMatch"] = "true" });
        await using var _ = withNote;
        var (message, _) = await ComposeAsync(withNote, noteEdition, Carol);

        Assert.Equal("PPRNet research digest, March 2023: nothing on your topics this month", message.Subject);
        Assert.Contains("None of this month's summaries is on your topics", message.HtmlBody);
        Assert.All(new[] { Mentalize, NegativeEffects, Alliance }, title => Assert.Contains(title, message.HtmlBody));
        Assert.DoesNotContain("Practice Implications", message.HtmlBody);
    }

    [Fact]
    public async Task Markup_in_a_name_is_escaped_never_executed()
    {
        var (test, edition) = await PrepareAsync();
        await using var _ = test;
        var ann = await RecipientAsync(test, Ann) with { Name = "<script>alert(1)</script>" };

        var (message, _) = RoundTrip(edition.Compose(ann, 0)!);

        Assert.DoesNotContain("<script", message.HtmlBody, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Dear &lt;script&gt;alert(1)&lt;/script&gt;,", message.HtmlBody);
        Assert.Equal("<script>alert(1)</script>", Assert.Single(message.To.Mailboxes).Name);
    }

    [Fact]
    public async Task A_name_with_line_breaks_and_quotes_cannot_add_a_header()
    {
        var (test, edition) = await PrepareAsync();
        await using var _ = test;
        var ann = await RecipientAsync(test, Ann) with { Name = "Ann \"The Boss\" Smith\r\nBcc: victim@example.net\r\n\r\nInjected body" };

        var (message, raw) = RoundTrip(edition.Compose(ann, 0)!);

        var headers = Encoding.ASCII.GetString(raw, 0, IndexOf(raw, "\r\n\r\n"u8));
        Assert.Single(Regex.Matches(headers, "^To:", RegexOptions.Multiline));
        Assert.DoesNotMatch("(?im)^bcc:", headers);
        Assert.Empty(message.Bcc);
        var to = Assert.Single(message.To.Mailboxes);
        Assert.Equal("ann.smith@example.org", to.Address);
        Assert.Equal("Ann \"The Boss\" Smith Bcc: victim@example.net Injected body", to.Name);
        Assert.DoesNotContain("victim@example.net", message.Headers.Where(h => h.Id != HeaderId.To).Select(h => h.Value));
    }

    [Fact]
    public async Task Composing_from_many_threads_gives_each_reader_their_own_digest()
    {
        var (test, edition) = await PrepareAsync();
        await using var _ = test;
        var readers = new[] { await RecipientAsync(test, Ann), await RecipientAsync(test, Bob) };
        var expected = readers.Select(r => edition.Compose(r, 0)!.HtmlBody).ToArray();

        var results = new string?[400];
        Parallel.For(0, results.Length, i => results[i] = edition.Compose(readers[i % 2], 0)!.HtmlBody);

        Assert.All(Enumerable.Range(0, results.Length), i => Assert.Equal(expected[i % 2], results[i]));
    }

    static IEnumerable<string> Lines(byte[] raw) => Encoding.UTF8.GetString(raw).Split("\r\n");

    static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);

    static string Unfold(string header) => Regex.Replace(header, @"\r?\n[ \t]+", " ");

    /// <summary>The text with its wrapping undone, so assertions can look for whole sentences.</summary>
    static string Unwrap(string text) => Regex.Replace(text.Replace("\r\n", "\n"), @"(?<=\S)\n(?=[ ]*\S)[ ]*", " ");

    [GeneratedRegex("<table[^>]*>")]
    private static partial Regex TableTag();

    [GeneratedRegex("""\swidth="([^"]+)""")]
    private static partial Regex WidthAttribute();

    [GeneratedRegex("""href="([^"]*)""")]
    private static partial Regex HrefAttribute();
}
