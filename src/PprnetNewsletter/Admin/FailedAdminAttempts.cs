using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace PprnetNewsletter.Admin;

/// <summary>
/// Wrong admin keys per client address, in windows of a minute (Admin:FailedAttemptsPerMinute). Only failures spend
/// the allowance, but an address that has spent it is refused before its key is even compared.
/// </summary>
public sealed class FailedAdminAttempts(IOptions<AdminOptions> options) : IDisposable
{
    readonly PartitionedRateLimiter<string> _failures = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.Value.FailedAttemptsPerMinute,
            Window = TimeSpan.FromMinutes(1),
        }));

    /// <summary>Null while <paramref name="address"/> may still try; otherwise how long until it may again.</summary>
    public TimeSpan? Blocked(string address)
    {
        // Asking for no permit tells whether any is left, without spending one.
        using var lease = _failures.AttemptAcquire(address, 0);
        return lease.IsAcquired ? null : RetryAfter(lease);
    }

    /// <summary>Records a wrong key from <paramref name="address"/>.</summary>
    public void Record(string address)
    {
        using var lease = _failures.AttemptAcquire(address);
    }

    static TimeSpan RetryAfter(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromMinutes(1);

    public void Dispose() => _failures.Dispose();
}
