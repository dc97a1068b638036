using Microsoft.Extensions.Options;
using PprnetNewsletter.Bounces;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Digests;

/// <summary>
/// Every absolute link an email carries, built from <c>Newsletter:BaseUrl</c> in one place so the web pages
/// and the emails agree on the routes.
/// </summary>
public sealed class DigestLinks(IOptions<NewsletterOptions> options, IOptions<BouncesOptions> bounces)
{
    readonly NewsletterOptions _newsletter = options.Value;

    /// <summary>Where mailto unsubscribes go: the bounce address when set, whose mailbox the service reads; else From.</summary>
    readonly string _unsubscribeAddress = bounces.Value.VerpEnabled ? bounces.Value.Address!.Trim() : options.Value.FromAddress;

    public string Home => _newsletter.Link("/");

    /// <summary>The month's archive page, <c>{BaseUrl}/archive/2023-03</c>: "view in browser".</summary>
    public string Archive(string month) => _newsletter.Link($"/archive/{month}");

    /// <summary>One summary on the archive page: the page gives each summary the id of its slug.</summary>
    public string ArchiveEntry(string month, string slug) => $"{Archive(month)}#{Uri.EscapeDataString(slug)}";

    /// <summary>One-click unsubscribe (GET shows a confirmation page, POST unsubscribes: RFC 8058).</summary>
    public string Unsubscribe(string token) => _newsletter.Link($"/u/{token}");

    public string Preferences(string token) => _newsletter.Link($"/preferences/{token}");

    /// <summary>The double opt-in link; the page there confirms with a POST button, so link scanners cannot confirm.</summary>
    public string Confirm(string token) => _newsletter.Link($"/confirm?token={Uri.EscapeDataString(token)}");

    /// <summary>The mailto form of unsubscribe for List-Unsubscribe: the subject identifies the subscriber.</summary>
    public string UnsubscribeMailto(string token) => $"mailto:{_unsubscribeAddress}?subject=unsubscribe-{token}";
}
