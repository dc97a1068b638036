using System.Security.Claims;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>
/// Every administrator action on the dashboard: who, what, when, from which client address. Append-only; the rows are
/// the store's (<see cref="IAuditStore"/>).
/// </summary>
public sealed class AuditLog(IAuditStore store, TimeProvider time)
{
    public Task RecordAsync(string who, string action, string? detail, string? ip, CancellationToken ct = default) =>
        store.AddAsync(who, action, detail, ip, time.GetUtcNow(), ct);

    /// <summary>Records an action of the signed-in administrator of <paramref name="http"/>.</summary>
    public Task RecordAsync(HttpContext http, string action, string? detail = null) =>
        RecordAsync(http.User.FindFirstValue(ClaimTypes.Name) ?? "(not signed in)", action, detail,
            http.Connection.RemoteIpAddress?.ToString(), http.RequestAborted);

    public Task<IReadOnlyList<AuditEntry>> ListAsync(int offset, int limit, CancellationToken ct = default) => store.ListAsync(offset, limit, ct);

    public Task<long> CountAsync(CancellationToken ct = default) => store.CountAsync(ct);
}
