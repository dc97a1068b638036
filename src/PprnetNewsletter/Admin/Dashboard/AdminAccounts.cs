using Dapper;
using Microsoft.AspNetCore.Identity;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Admin.Dashboard;

public sealed record AdminAccount(long Id, string Email, DateTimeOffset CreatedAt);

/// <summary>
/// The dashboard's administrator accounts. Passwords are hashed by ASP.NET Core Identity's
/// <see cref="PasswordHasher{TUser}"/> (salted PBKDF2 with a versioned format that upgrades itself), never by hand.
/// </summary>
public sealed class AdminAccounts(Db db, TimeProvider time)
{
    public const int MinPasswordLength = 12;

    const string Insert = "INSERT INTO admins (email, password_hash, created_at) VALUES (@email, @hash, @now) RETURNING id";
    const string ByEmail = "SELECT id, email, password_hash AS PasswordHash FROM admins WHERE lower(email) = lower(@email)";
    const string All = "SELECT id, email, created_at AS CreatedAt FROM admins ORDER BY lower(email)";
    const string Delete = "DELETE FROM admins WHERE lower(email) = lower(@email)";
    const string Rehash = "UPDATE admins SET password_hash = @hash WHERE id = @id";

    sealed record Row(long Id, string Email, string PasswordHash);

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
        await using var connection = await db.OpenAsync(ct);
        if (await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(ByEmail, new { email = normalised }, cancellationToken: ct)) is not null)
        {
            throw new UsageException($"{normalised} is already an administrator. Remove it first to set a new password.");
        }
        var now = time.GetUtcNow();
        var hash = _hasher.HashPassword(null!, password);
        var id = await connection.ExecuteScalarAsync<long>(new CommandDefinition(Insert, new { email = normalised, hash, now }, cancellationToken: ct));
        return new AdminAccount(id, normalised, now);
    }

    public async Task<IReadOnlyList<AdminAccount>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        return (await connection.QueryAsync<AdminAccount>(new CommandDefinition(All, cancellationToken: ct))).ToList();
    }

    public async Task<bool> RemoveAsync(string email, CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(Delete, new { email = email.Trim() }, cancellationToken: ct)) > 0;
    }

    public async Task<bool> ExistsAsync(string email, CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(ByEmail, new { email }, cancellationToken: ct)) is not null;
    }

    /// <summary>The account when <paramref name="password"/> is its password; null otherwise.</summary>
    public async Task<AdminAccount?> VerifyAsync(string email, string password, CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(ByEmail, new { email = email.Trim() }, cancellationToken: ct));
        var account = row is null ? null : new AdminAccount(row.Id, row.Email, default);
        var result = _hasher.VerifyHashedPassword(account!, row?.PasswordHash ?? _decoy.Value, password);
        if (row is null || result == PasswordVerificationResult.Failed)
        {
            return null;
        }
        if (result == PasswordVerificationResult.SuccessRehashNeeded)
        {
            // A hash from an older format or iteration count is replaced while the password is at hand.
            await connection.ExecuteAsync(new CommandDefinition(Rehash, new { id = row.Id, hash = _hasher.HashPassword(account!, password) }, cancellationToken: ct));
        }
        return account;
    }
}
