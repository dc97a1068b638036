using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Scheduling;
using PprnetNewsletter.Storage;
using Quartz;

namespace PprnetNewsletter.Observability;

/// <summary>The relay answers a TCP connection (only when a relay is configured; the pickup directory needs none).</summary>
public sealed class SmtpReachabilityCheck(IOptions<SmtpOptions> smtp) : IHealthCheck
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var options = smtp.Value;
        if (string.IsNullOrWhiteSpace(options.Host))
        {
            return HealthCheckResult.Healthy("no relay configured: mail goes to the pickup directory");
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(Timeout);
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(options.Host, options.Port, deadline.Token);
            return HealthCheckResult.Healthy("the relay accepts connections");
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // Degraded, not unhealthy: pages and the admin still work, and the engine retries deferred mail.
            return HealthCheckResult.Degraded($"the relay does not accept connections ({(e is SocketException s ? s.SocketErrorCode : "timed out")})");
        }
    }
}

/// <summary>The next time the monthly schedule fires.</summary>
public sealed class SchedulerCheck(ISchedulerFactory schedulers) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var scheduler = await schedulers.GetScheduler(ct);
        var trigger = await scheduler.GetTrigger(new TriggerKey(MonthlyEditionJob.Name), ct);
        if (scheduler.Status != SchedulerStatus.Running || trigger?.NextFireTimeUtc is not { } next)
        {
            return HealthCheckResult.Degraded("the monthly schedule is not running");
        }
        return HealthCheckResult.Healthy($"next monthly run at {next:u}", new Dictionary<string, object> { ["next_fire_time"] = next.ToString("O") });
    }
}

/// <summary>Free space on the disk of the database (the ledger grows by a few kilobytes per message).</summary>
public sealed class DiskSpaceCheck(Db db) : IHealthCheck
{
    const long LowBytes = 512L * 1024 * 1024;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var free = new DriveInfo(Path.GetDirectoryName(db.Path)!).AvailableFreeSpace;
        var data = new Dictionary<string, object> { ["free_bytes"] = free };
        var text = $"{free / (1024 * 1024)} MB free in the data folder";
        return Task.FromResult(free < LowBytes ? HealthCheckResult.Degraded(text, data: data) : HealthCheckResult.Healthy(text, data));
    }
}
