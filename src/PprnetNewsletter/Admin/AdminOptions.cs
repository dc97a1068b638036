namespace PprnetNewsletter.Admin;

public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>The bearer token of the admin API. None configured: every admin call is refused.</summary>
    public string? ApiKey { get; set; }
}
