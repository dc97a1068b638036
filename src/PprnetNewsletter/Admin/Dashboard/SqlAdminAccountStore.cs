using System.Data.Common;
using Dapper;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>The administrator accounts' SQL, the same for both engines (each has a unique index on lower(email)).</summary>
public abstract class SqlAdminAccountStore : IAdminAccountStore
{
    /// <summary>A new open connection to the database; the caller disposes of it.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    // The unique index on lower(email) decides between two adds of one address at once (two instances, two terminals).
    const string Insert = """
        INSERT INTO admins (email, password_hash, created_at) VALUES (@email, @hash, @createdAt) ON CONFLICT DO NOTHING RETURNING id
        """;
    const string ByEmail = "SELECT id, email, password_hash AS PasswordHash FROM admins WHERE lower(email) = lower(@email)";
    const string All = "SELECT id, email, created_at AS CreatedAt FROM admins";
    const string Delete = "DELETE FROM admins WHERE lower(email) = lower(@email)";
    const string Rehash = "UPDATE admins SET password_hash = @hash WHERE id = @id";

    public async Task<StoredAdmin?> FindAsync(string email, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<StoredAdmin>(new CommandDefinition(ByEmail, new { email }, cancellationToken: ct));
    }

    public async Task<long?> AddAsync(string email, string passwordHash, DateTimeOffset createdAt, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(Insert, new { email, hash = passwordHash, createdAt }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<AdminAccount>> ListAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return (await connection.QueryAsync<AdminAccount>(new CommandDefinition(All, cancellationToken: ct))).ToList();
    }

    public async Task<bool> RemoveAsync(string email, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(Delete, new { email }, cancellationToken: ct)) > 0;
    }

    public async Task SetPasswordHashAsync(long id, string passwordHash, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(Rehash, new { id, hash = passwordHash }, cancellationToken: ct));
    }
}
