namespace PprnetNewsletter.Admin.Dashboard;

public sealed record AuditEntry(long Id, string AdminEmail, string Action, string? Detail, string? ClientIp, DateTimeOffset OccurredAt);

/// <summary>
/// The rows of the audit log, append-only; <see cref="AuditLog"/> says who acted and when. One implementation per
/// database engine (<see cref="SqliteAuditStore"/>, <see cref="PgAuditStore"/>); both share <see cref="SqlAuditStore"/>.
/// </summary>
public interface IAuditStore
{
    Task AddAsync(string who, string action, string? detail, string? ip, DateTimeOffset occurredAt, CancellationToken ct);

    /// <summary>Entries newest first, <paramref name="limit"/> from <paramref name="offset"/>.</summary>
    Task<IReadOnlyList<AuditEntry>> ListAsync(int offset, int limit, CancellationToken ct);

    Task<long> CountAsync(CancellationToken ct);
}
