using Microsoft.Extensions.Options;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Digests;

/// <summary>
/// Turns a template and a model whose per-reader values are placeholders into a <see cref="PersonalisedEmail"/>:
/// Razor renders once, PreMailer inlines the CSS once (about 1 ms a document), and every reader's email is
/// then a matter of filling in their values.
/// </summary>
public sealed class EmailRenderer(
    EmailTemplates templates, MessageAssembly assembly, DigestLinks links, IOptions<NewsletterOptions> options, ILogger<EmailRenderer> logger)
{
    readonly NewsletterOptions _newsletter = options.Value;

    public DigestLinks Links => links;

    public SenderView Sender => new()
    {
        Name = _newsletter.FromName,
        PostalAddress = _newsletter.PostalAddress,
        ContactEmail = _newsletter.ContactEmail,
    };

    /// <summary>The reader as templates see them while rendering: placeholders, filled in per email.</summary>
    public static ReaderView PlaceholderReader(bool hasName) => new()
    {
        Name = Placeholders.Of(Slot.Name),
        HasName = hasName,
        Email = Placeholders.Of(Slot.Email),
        Topics = Placeholders.Of(Slot.Topics),
    };

    /// <param name="feedbackId">For list mail (the digest): Gmail's Feedback-ID; null for one-off emails.</param>
    public async Task<PersonalisedEmail> RenderAsync(string email, EmailModel model, string? feedbackId)
    {
        var (html, text) = await templates.RenderAsync(email, model);
        return new PersonalisedEmail(assembly.Share(model.Subject, feedbackId), new PersonalHtml(InlineCss(email, html)), new PersonalText(text));
    }

    internal string InlineCss(string email, string html)
    {
        // Everything that can be inlined moves onto the elements, since several webmail clients drop <style>, and
        // leaves the <style> block: kept there too, it would go out twice in every email (~2.4 KB of a 16 KB digest).
        // What cannot be inlined, the media queries, stays in a <style> block of its own.
        var result = PreMailer.Net.PreMailer.MoveCssInline(html, removeStyleElements: true, removeComments: true, preserveMediaQueries: true);
        foreach (var warning in result.Warnings)
        {
            logger.LogWarning("CSS in template {Template}: {Warning}", email, warning);
        }
        return result.Html;
    }
}

/// <summary>One rendered email with CSS inlined, placeholders still in, and its shared headers: fill it for each reader.</summary>
public sealed class PersonalisedEmail
{
    readonly PersonalHtml _html;
    readonly PersonalText _text;
    readonly EncodedAlternative.Framing _framing = new();

    internal PersonalisedEmail(SharedHeaders headers, PersonalHtml html, PersonalText text)
    {
        Headers = headers;
        _html = html;
        _text = text;
    }

    public SharedHeaders Headers { get; }

    public string Subject => Headers.Subject;

    /// <summary>The reader's body: text and HTML, UTF-8 already in quoted-printable, in a buffer of its own (a message owns its content).</summary>
    public EncodedAlternative Fill(ReaderValues values)
    {
        using var text = _text.Fill(values);
        using var html = _html.Fill(values);
        return EncodedAlternative.Create(_framing, text, html);
    }
}
