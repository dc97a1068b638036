namespace PprnetNewsletter.Digests;

public sealed class DigestOptions
{
    public const string Section = "Digest";

    /// <summary>Send a short "nothing on your topics this month" note when no summary matches.</summary>
    public bool SendWhenNoMatch { get; set; }
}
