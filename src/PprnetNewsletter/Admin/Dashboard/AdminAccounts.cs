using Microsoft.AspNetCore.Identity;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Admin.Dashboard;

public sealed record AdminAccount(long Id, string Email, DateTimeOffset CreatedAt);

/// <summary>
/// The dashboard's administrator accounts. Passwords are hashed by ASP.NET Core Identity's
/// <see cref="PasswordHasher{TUser}"/> (salted PBKDF2 with a versioned format that upgrades itself), never by hand.
/// The rows are the store's (<see cref="IAdminAccountStore"/>); the rules are here, the same for every engine.
/// </summary>
public sealed class AdminAccounts(IAdminAccountStore store, TimeProvider time)
{
    public const int MinPasswordLength = 12;

    readonly PasswordHasher<AdminAccount> _hasher = new();

    // Verified against when the address is unknown, so a wrong address costs as long as a wrong password and the
    // time of an answer does not tell which addresses have accounts.
    readonly Lazy<string> _decoy = new(() => new PasswordHasher<AdminAccount>().HashPassword(null!, Guid.NewGuid().ToString()));

    /// <exception cref="UsageException">The address is malformed or taken, or the password too short.</exception>
    public async Task<AdminAccount> AddAsync(string email, string password, CancellationToken ct = default)
    {
        if (!EmailAddressRules.TryNormalize(email, out var normalised, out var problem))
        {
            throw new UsageException($"The address '{EmailAddressRules.Printable(email)}' is not valid: {problem}.");
        }
        if (password.Length < MinPasswordLength)
        {
            throw new UsageException($"The password must be at least {MinPasswordLength} characters long (it has {password.Length}).");
        }
        var now = time.GetUtcNow();
        var hash = _hasher.HashPassword(null!, password);
        var id = await store.AddAsync(normalised, hash, now, ct)
            ?? throw new UsageException($"{normalised} is already an administrator. Remove it first to set a new password.");
        return new AdminAccount(id, normalised, now);
    }

    /// <summary>Every account, ordered by address without regard to case.</summary>
    public async Task<IReadOnlyList<AdminAccount>> ListAsync(CancellationToken ct = default) =>
        (await store.ListAsync(ct)).OrderBy(a => a.Email.ToLowerInvariant(), StringComparer.Ordinal).ToList();

    public Task<bool> RemoveAsync(string email, CancellationToken ct = default) => store.RemoveAsync(email.Trim(), ct);

    public async Task<bool> ExistsAsync(string email, CancellationToken ct = default) => await store.FindAsync(email, ct) is not null;

    /// <summary>The account when <paramref name="password"/> is its password; null otherwise.</summary>
    public async Task<AdminAccount?> VerifyAsync(string email, string password, CancellationToken ct = default)
    {
        var row = await store.FindAsync(email.Trim(), ct);
        var account = row is null ? null : new AdminAccount(row.Id, row.Email, default);
        var result = _hasher.VerifyHashedPassword(account!, row?.PasswordHash ?? _decoy.Value, password);
        if (row is null || result == PasswordVerificationResult.Failed)
        {
            return null;
        }
        if (result == PasswordVerificationResult.SuccessRehashNeeded)
        {
            // A hash from an older format or iteration count is replaced while the password is at hand.
            await store.SetPasswordHashAsync(row.Id, _hasher.HashPassword(account!, password), ct);
        }
        return account;
    }
}
