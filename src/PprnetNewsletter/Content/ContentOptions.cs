namespace PprnetNewsletter.Content;

public sealed class ContentOptions
{
    public const string Section = "Content";

    /// <summary>
    /// The folder of summaries the service imports when it starts with no summaries at all, so a first run
    /// has an edition to send. A relative path is taken from the application folder; empty turns this off.
    /// </summary>
    public string FirstStartFolder { get; set; } = "content";
}
