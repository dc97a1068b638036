namespace PprnetNewsletter.Digests;

/// <summary>DKIM signing: on when Domain, Selector and PrivateKeyPath are all set.</summary>
public sealed class DkimOptions
{
    public const string Section = "Dkim";

    public string? Domain { get; set; }

    public string? Selector { get; set; }

    public string? PrivateKeyPath { get; set; }

    public bool Enabled =>
        !string.IsNullOrWhiteSpace(Domain) && !string.IsNullOrWhiteSpace(Selector) && !string.IsNullOrWhiteSpace(PrivateKeyPath);
}
