namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>An administrator's row, with the password's hash (never shown, only verified).</summary>
public sealed record StoredAdmin(long Id, string Email, string PasswordHash);

/// <summary>
/// The rows of the administrator accounts; <see cref="AdminAccounts"/> holds the rules (addresses, passwords, hashing).
/// Addresses are compared without regard to case. One implementation per database engine
/// (<see cref="SqliteAdminAccountStore"/>, <see cref="PgAdminAccountStore"/>); both share <see cref="SqlAdminAccountStore"/>.
/// </summary>
public interface IAdminAccountStore
{
    /// <summary>The account of <paramref name="email"/> in any case, or null.</summary>
    Task<StoredAdmin?> FindAsync(string email, CancellationToken ct);

    /// <summary>Adds an account; its id, or null when the address (in any case) has one already.</summary>
    Task<long?> AddAsync(string email, string passwordHash, DateTimeOffset createdAt, CancellationToken ct);

    /// <summary>Every account (in no particular order).</summary>
    Task<IReadOnlyList<AdminAccount>> ListAsync(CancellationToken ct);

    /// <summary>Removes the account of <paramref name="email"/> in any case; false when there was none.</summary>
    Task<bool> RemoveAsync(string email, CancellationToken ct);

    Task SetPasswordHashAsync(long id, string passwordHash, CancellationToken ct);
}
