namespace PprnetNewsletter.Admin;

/// <summary>One delivery-ledger row as the admin API shows it (the address is gone when the subscriber was erased).</summary>
public sealed record DeliveryRowView(
    long Id, long? SubscriberId, string? Email, string State, long Attempts, long ResendCount, int? SmtpCode,
    string? EnhancedStatus, string? SmtpReply, string? LastError, string? MessageId, DateTimeOffset? NextAttemptAt,
    DateTimeOffset? SentAt, DateTimeOffset UpdatedAt);

public sealed record DeliveryRowsView(string Month, string? State, IReadOnlyList<DeliveryRowView> Items, int Offset, int Limit);

/// <summary>
/// The admin views' own reads of the delivery ledger. One implementation per database engine
/// (<see cref="SqliteAdminQueries"/>, <see cref="PgAdminQueries"/>); both share <see cref="SqlAdminQueries"/>.
/// </summary>
public interface IAdminQueries
{
    const int MaxPageSize = 1000;

    /// <summary>The ledger rows of an edition (of one state, or all), in ledger order, <paramref name="limit"/> from <paramref name="offset"/>.</summary>
    Task<IReadOnlyList<DeliveryRowView>> DeliveriesAsync(string month, string? state, int offset, int limit, CancellationToken ct);
}
