using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Digests;

/// <summary>
/// March 2023 with three summaries, and subscribers of every kind, inserted with SQL as the importer would
/// leave them.
/// </summary>
static class DigestTestData
{
    public const string Month = "2023-03";

    public const string Mentalize = "Capacity to Mentalize Predicted Outcomes in Inpatient Therapy";
    public const string NegativeEffects = "Negative Effects of Psychotherapy: Who Deteriorates?";
    public const string Alliance = "Training Therapists in the Alliance Improves Retention";

    /// <summary>Confirmed, "Dr. Ann Smith", topics Depression and Training: gets Mentalize and Alliance.</summary>
    public const long Ann = 1;

    /// <summary>Confirmed, no name, all topics.</summary>
    public const long Bob = 2;

    /// <summary>Confirmed, topic Empathy only: nothing matches.</summary>
    public const long Carol = 3;

    /// <summary>Pending, topic Depression.</summary>
    public const long Dan = 4;

    // About the size of the blog's summaries (2.5-3 KB of text each).
    static readonly string Paragraph = "Clinicians who attend to the alliance early in treatment, and who invite clients to say when " +
        "something is not working, see fewer drop-outs and better outcomes; the effect held across diagnoses, settings and " +
        "therapist experience, although it was smaller for the most distressed clients (d = 0.42, p = .003).";

    public static async Task SeedAsync(TestApp test)
    {
        var body = string.Concat(Enumerable.Repeat($"<p>{Paragraph}</p>\n", 5)) + "<ul>\n<li>Depression fell (d = 1.47).</li>\n<li>Mentalizing varied.</li>\n</ul>\n";
        var bodyText = string.Join("\n\n", Enumerable.Repeat(Paragraph, 5)) + "\n\n- Depression fell (d = 1.47).\n- Mentalizing varied.\n";
        await using var connection = await test.Get<Db>().OpenAsync();
        await connection.ExecuteAsync("""
            INSERT INTO editions (id, month, created_at) VALUES (1, '2023-03', '2023-03-01T00:00:00.0000000Z');
            INSERT INTO summaries (id, edition_id, slug, position, title, citation, research_type, body_markdown, body_html, body_text,
                implications_markdown, implications_html, implications_text, imported_at, updated_at)
            VALUES
              (11, 1, 'capacity-to-mentalize', 1, @Mentalize, 'Halstensen, K., et al. (2021). Depression and mentalizing. Journal of Counseling Psychology, 68(6), 705–718.',
               'Quantitative', 'x', @body, @bodyText, 'x', '<p>Gauge mentalizing early & support it.</p>', 'Gauge mentalizing early & support it.', @T, @T),
              (12, 1, 'negative-effects', 2, @NegativeEffects, NULL, NULL, 'x', @body, @bodyText, 'x', '<p>Monitor progress.</p>', 'Monitor progress.', @T, @T),
              (13, 1, 'alliance-training', 3, @Alliance, 'Author, A. (2020). Alliance training. Psychotherapy Research, 30(1), 1–12.',
               'Qualitative', 'x', @body, @bodyText, 'x', '<p>Ask for feedback.</p>', 'Ask for feedback.', @T, @T);
            INSERT INTO summary_topics (summary_id, topic_id) SELECT 11, id FROM topics WHERE slug IN ('depression-and-depressive-symptoms', 'psychodynamic-therapy-pdt');
            INSERT INTO summary_topics (summary_id, topic_id) SELECT 12, id FROM topics WHERE slug IN ('outcomes-and-deterioration', 'therapist-factors');
            INSERT INTO summary_topics (summary_id, topic_id) SELECT 13, id FROM topics WHERE slug IN ('training', 'alliance-and-therapeutic-relationship');

            INSERT INTO subscribers (id, email, name, status, all_topics, created_at, updated_at, confirmed_at) VALUES
              (1, 'ann.smith@example.org', 'Dr. Ann Smith', 'confirmed', 0, '2023-01-01T00:00:00.0000000Z', '2023-01-01T00:00:00.0000000Z', '2023-01-01T00:00:00.0000000Z'),
              (2, 'bob@example.org', '', 'confirmed', 1, '2023-01-01T00:00:00.0000000Z', '2023-01-01T00:00:00.0000000Z', '2023-01-01T00:00:00.0000000Z'),
              (3, 'carol@example.org', 'Carol', 'confirmed', 0, '2023-01-01T00:00:00.0000000Z', '2023-01-01T00:00:00.0000000Z', '2023-01-01T00:00:00.0000000Z'),
              (4, 'dan@example.org', 'Dan', 'pending', 0, '2023-01-01T00:00:00.0000000Z', '2023-01-01T00:00:00.0000000Z', NULL);
            INSERT INTO subscriber_topics (subscriber_id, topic_id) SELECT 1, id FROM topics WHERE slug IN ('depression-and-depressive-symptoms', 'training');
            INSERT INTO subscriber_topics (subscriber_id, topic_id) SELECT 3, id FROM topics WHERE slug = 'empathy';
            INSERT INTO subscriber_topics (subscriber_id, topic_id) SELECT 4, id FROM topics WHERE slug = 'depression-and-depressive-symptoms';
            """, new { Mentalize, NegativeEffects, Alliance, body, bodyText, T = "2023-03-01T00:00:00.0000000Z" });
    }

    /// <summary>The edition factory as the sending engine gets it, optionally on a fake clock.</summary>
    public static EditionMessageFactory Factory(TestApp test, TimeProvider? time = null)
    {
        var assembly = ActivatorUtilities.CreateInstance<MessageAssembly>(test.App.Services, time ?? TimeProvider.System);
        return ActivatorUtilities.CreateInstance<EditionMessageFactory>(test.App.Services, assembly);
    }

    public static string Token(TestApp test, long subscriberId, LinkPurpose purpose) =>
        test.Get<LinkTokens>().Create(subscriberId, purpose);

    public static string UnsubscribeUrl(TestApp test, long subscriberId) =>
        "https://news.example.org/u/" + Token(test, subscriberId, LinkPurpose.Unsubscribe);

    public static string PreferencesUrl(TestApp test, long subscriberId) =>
        "https://news.example.org/preferences/" + Token(test, subscriberId, LinkPurpose.Preferences);

    public static async Task<Recipient> RecipientAsync(TestApp test, long subscriberId)
    {
        var s = (await test.Get<ISubscriberStore>().GetAsync(subscriberId))!;
        return new Recipient(s.Id, s.Email, s.Name, s.AllTopics, s.TopicIds);
    }

    /// <summary>The message as it travels over SMTP (CRLF line ends): serialised, then parsed back.</summary>
    public static (MimeMessage Message, byte[] Raw) RoundTrip(MimeMessage message)
    {
        using var stream = new MemoryStream();
        var smtp = FormatOptions.Default.Clone();
        smtp.NewLineFormat = NewLineFormat.Dos;
        message.WriteTo(smtp, stream);
        var raw = stream.ToArray();
        return (MimeMessage.Load(new MemoryStream(raw)), raw);
    }
}
