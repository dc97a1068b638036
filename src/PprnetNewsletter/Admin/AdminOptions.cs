using System.ComponentModel.DataAnnotations;

namespace PprnetNewsletter.Admin;

public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>The bearer token of the admin API. None configured: every admin call is refused.</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Wrong admin keys accepted from one client address per minute; past that, every admin request from the address
    /// gets 429 until the minute is over, so a guess cannot even be tried.
    /// </summary>
    [Range(1, 10_000, ErrorMessage = "Admin:FailedAttemptsPerMinute must be between 1 and 10000")]
    public int FailedAttemptsPerMinute { get; set; } = 10;
}
