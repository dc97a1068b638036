using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Storage;

/// <summary>Healthy when the database answers a query.</summary>
public sealed class DatabaseHealthCheck(IOptions<StorageOptions> options, IServiceProvider services) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await using System.Data.Common.DbConnection connection = options.Value.Provider == StorageProvider.Postgres
                ? await services.GetRequiredService<PgDb>().OpenAsync(ct)
                : await services.GetRequiredService<Db>().OpenAsync(ct);
            var version = await connection.ExecuteScalarAsync<int>("SELECT max(version) FROM schema_version");
            return HealthCheckResult.Healthy($"schema version {version}");
        }
        catch (Exception e)
        {
            return HealthCheckResult.Unhealthy("the database does not answer", e);
        }
    }
}
