using System.ComponentModel.DataAnnotations;

namespace PprnetNewsletter.Web;

public sealed class WebOptions
{
    public const string Section = "Web";

    /// <summary>Where the service listens: one or more URLs separated by ';'.</summary>
    [Required(ErrorMessage = "Web:Urls is required, e.g. http://127.0.0.1:5080")]
    public string Urls { get; set; } = "http://127.0.0.1:5080";
}
