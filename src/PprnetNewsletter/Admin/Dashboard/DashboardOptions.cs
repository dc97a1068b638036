using System.ComponentModel.DataAnnotations;

namespace PprnetNewsletter.Admin.Dashboard;

public sealed class DashboardOptions
{
    public const string Section = "Dashboard";

    /// <summary>A session ends after this long without a request (sliding).</summary>
    [Range(typeof(TimeSpan), "00:05:00", "7.00:00:00", ErrorMessage = "Dashboard:SessionLifetime must be between 00:05:00 and 7.00:00:00")]
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>Failed sign-ins, for one account or from one client address, within <see cref="FailureWindow"/> that lock it out.</summary>
    [Range(1, 1000, ErrorMessage = "Dashboard:MaxSignInFailures must be between 1 and 1000")]
    public int MaxSignInFailures { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Dashboard:FailureWindow must be between 00:00:01 and 1.00:00:00")]
    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long a locked-out account or address gets 429 for every sign-in attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Dashboard:Lockout must be between 00:00:01 and 1.00:00:00")]
    public TimeSpan Lockout { get; set; } = TimeSpan.FromMinutes(15);
}
