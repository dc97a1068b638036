using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PprnetNewsletter.Storage;

/// <summary>Healthy when the database answers a query.</summary>
public sealed class DatabaseHealthCheck(Db db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await using var connection = await db.OpenAsync(ct);
            var version = await connection.ExecuteScalarAsync<int>("SELECT max(version) FROM schema_version");
            return HealthCheckResult.Healthy($"schema version {version}");
        }
        catch (Exception e)
        {
            return HealthCheckResult.Unhealthy("the database does not answer", e);
        }
    }
}
