using System.ComponentModel.DataAnnotations;

namespace PprnetNewsletter.Hosting;

/// <summary>The sender's identity and where links point (CASL asks for a postal address and a contact).</summary>
public sealed class NewsletterOptions
{
    public const string Section = "Newsletter";

    /// <summary>Absolute http(s) URL of the public site, used in every link of every email.</summary>
    [Required(ErrorMessage = "Newsletter:BaseUrl is required, e.g. https://news.example.org")]
    [Url(ErrorMessage = "Newsletter:BaseUrl must be an absolute http(s) URL, e.g. https://news.example.org")]
    public string BaseUrl { get; set; } = "http://127.0.0.1:5080";

    [Required(ErrorMessage = "Newsletter:FromAddress is required")]
    [EmailAddress(ErrorMessage = "Newsletter:FromAddress must be an email address, e.g. digest@example.org")]
    public string FromAddress { get; set; } = "digest@pprnet.example.org";

    [Required(ErrorMessage = "Newsletter:FromName is required")]
    public string FromName { get; set; } = "PPRNet Research Digest";

    [Required(ErrorMessage = "Newsletter:PostalAddress is required (CASL): the sender's mailing address")]
    public string PostalAddress { get; set; } = "";

    [Required(ErrorMessage = "Newsletter:ContactEmail is required (CASL)")]
    [EmailAddress(ErrorMessage = "Newsletter:ContactEmail must be an email address")]
    public string ContactEmail { get; set; } = "";

    /// <summary>The privacy policy, linked from every page's footer and the subscribe form; empty: no link.</summary>
    [RegularExpression(@"^https?://[^\s/]+\S*$", ErrorMessage = "Newsletter:PrivacyUrl must be empty or an absolute http(s) URL, e.g. https://example.org/privacy")]
    public string? PrivacyUrl { get; set; }

    /// <summary>The base URL without a trailing slash, ready to have paths appended.</summary>
    public string Link(string path) => BaseUrl.TrimEnd('/') + "/" + path.TrimStart('/');
}
