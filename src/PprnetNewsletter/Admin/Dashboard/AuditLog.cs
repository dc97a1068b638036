using System.Security.Claims;
using Dapper;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Admin.Dashboard;

public sealed record AuditEntry(long Id, string AdminEmail, string Action, string? Detail, string? ClientIp, DateTimeOffset OccurredAt);

/// <summary>Every administrator action on the dashboard: who, what, when, from which client address. Append-only.</summary>
public sealed class AuditLog(Db db, TimeProvider time)
{
    const string Insert = """
        INSERT INTO admin_audit (admin_email, action, detail, client_ip, occurred_at) VALUES (@who, @action, @detail, @ip, @now)
        """;

    const string Page = """
        SELECT id, admin_email AS AdminEmail, action, detail, client_ip AS ClientIp, occurred_at AS OccurredAt
        FROM admin_audit ORDER BY id DESC LIMIT @limit OFFSET @offset
        """;

    const string Count = "SELECT count(*) FROM admin_audit";

    public async Task RecordAsync(string who, string action, string? detail, string? ip, CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(Insert, new { who, action, detail, ip, now = time.GetUtcNow() }, cancellationToken: ct));
    }

    /// <summary>Records an action of the signed-in administrator of <paramref name="http"/>.</summary>
    public Task RecordAsync(HttpContext http, string action, string? detail = null) =>
        RecordAsync(http.User.FindFirstValue(ClaimTypes.Name) ?? "(not signed in)", action, detail,
            http.Connection.RemoteIpAddress?.ToString(), http.RequestAborted);

    public async Task<IReadOnlyList<AuditEntry>> ListAsync(int offset, int limit, CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        return (await connection.QueryAsync<AuditEntry>(new CommandDefinition(Page, new { offset, limit }, cancellationToken: ct))).ToList();
    }

    public async Task<long> CountAsync(CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(Count, cancellationToken: ct));
    }
}
