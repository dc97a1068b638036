using System.Data.Common;
using Dapper;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>The audit log's SQL, the same for both engines.</summary>
public abstract class SqlAuditStore : IAuditStore
{
    /// <summary>A new open connection to the database; the caller disposes of it.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    const string Insert = """
        INSERT INTO admin_audit (admin_email, action, detail, client_ip, occurred_at) VALUES (@who, @action, @detail, @ip, @occurredAt)
        """;

    const string Page = """
        SELECT id, admin_email AS AdminEmail, action, detail, client_ip AS ClientIp, occurred_at AS OccurredAt
        FROM admin_audit ORDER BY id DESC LIMIT @limit OFFSET @offset
        """;

    const string Count = "SELECT count(*) FROM admin_audit";

    public async Task AddAsync(string who, string action, string? detail, string? ip, DateTimeOffset occurredAt, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(Insert, new { who, action, detail, ip, occurredAt }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<AuditEntry>> ListAsync(int offset, int limit, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return (await connection.QueryAsync<AuditEntry>(new CommandDefinition(Page, new { offset, limit }, cancellationToken: ct))).ToList();
    }

    public async Task<long> CountAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(Count, cancellationToken: ct));
    }
}
