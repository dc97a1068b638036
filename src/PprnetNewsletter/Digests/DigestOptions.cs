using System.ComponentModel.DataAnnotations;

namespace PprnetNewsletter.Digests;

public sealed class DigestOptions
{
    public const string Section = "Digest";

    /// <summary>Send a short "nothing on your topics this month" note when no summary matches.</summary>
    public bool SendWhenNoMatch { get; set; }

    /// <summary>The Razor email templates; relative paths are taken from the application's home folder.</summary>
    [Required(ErrorMessage = "Digest:TemplatesPath is required: the folder of the email templates, e.g. templates")]
    public string TemplatesPath { get; set; } = "templates";

    /// <summary>
    /// Where compiled templates are kept between runs, so a process whose templates are unchanged loads them instead of
    /// compiling; relative paths are taken from the application's home folder. Safe to delete.
    /// </summary>
    [Required(ErrorMessage = "Digest:CompiledTemplatesPath is required: the folder for compiled templates, e.g. data/compiled-templates")]
    public string CompiledTemplatesPath { get; set; } = "data/compiled-templates";
}
