using Dapper;
using System.Data.Common;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// The run records' statements and transactions, which read the same in SQLite and PostgreSQL: shared by
/// <see cref="SqliteEditionRuns"/> and <see cref="PgEditionRuns"/>, which open the connection.
/// </summary>
public abstract class EditionRunsBase : IEditionRuns
{
    /// <summary>A connection of the store's engine, open.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    // Insert, or take over a record whose lease lapsed; a live record is left alone (no row changes).
    const string Acquire = """
        INSERT INTO edition_runs (edition_id, owner, host, pid, started_at, heartbeat_at, lease_until)
        VALUES (@editionId, @owner, @host, @pid, @now, @now, @leaseUntil)
        ON CONFLICT (edition_id) DO UPDATE
        SET owner = excluded.owner, host = excluded.host, pid = excluded.pid, started_at = excluded.started_at,
            heartbeat_at = excluded.heartbeat_at, lease_until = excluded.lease_until
        WHERE edition_runs.lease_until < @now
        """;

    const string RenewRun = """
        UPDATE edition_runs SET heartbeat_at = @now, lease_until = @leaseUntil WHERE edition_id = @editionId AND owner = @owner
        """;

    /// <summary>The rows the run holds keep their lease as long as the run does.</summary>
    protected virtual string RenewRows => """
        UPDATE deliveries SET lease_until = @leaseUntil
        WHERE edition_id = @editionId AND state = 'sending' AND lease_owner = @owner
        """;

    // Taken over from a dead run: its rows in 'sending' are dead too, whatever is left of their own leases (rows it
    // claimed after its last heartbeat carry a lease a little longer than the run's).
    const string ExpireDeadRows = """
        UPDATE deliveries SET lease_until = @now
        WHERE edition_id = @editionId AND state = 'sending' AND lease_owner IS DISTINCT FROM @owner AND lease_until > @now
        """;

    const string ReleaseRun = "DELETE FROM edition_runs WHERE edition_id = @editionId AND owner = @owner";

    const string Holder = """
        SELECT owner AS Owner, host AS Host, CAST(pid AS bigint) AS Pid, started_at AS StartedAt, heartbeat_at AS HeartbeatAt, lease_until AS LeaseUntil
        FROM edition_runs WHERE edition_id = @editionId
        """;

    const string HolderByMonth = """
        SELECT r.owner AS Owner, r.host AS Host, CAST(r.pid AS bigint) AS Pid, r.started_at AS StartedAt, r.heartbeat_at AS HeartbeatAt,
               r.lease_until AS LeaseUntil
        FROM edition_runs r JOIN editions e ON e.id = r.edition_id WHERE e.month = @month
        """;

    const string HeldRows = "SELECT count(*) FROM deliveries WHERE edition_id = @editionId AND state = 'sending' AND lease_owner = @owner";

    public async Task<bool> TryAcquireAsync(long editionId, long owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var args = new { editionId, owner, host = Environment.MachineName, pid = Environment.ProcessId, now, leaseUntil };
        if (await connection.ExecuteAsync(new CommandDefinition(Acquire, args, tx, cancellationToken: ct)) != 1)
        {
            return false;
        }
        await connection.ExecuteAsync(new CommandDefinition(ExpireDeadRows, args, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task<bool> RenewAsync(long editionId, long owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var args = new { editionId, owner, now, leaseUntil };
        if (await connection.ExecuteAsync(new CommandDefinition(RenewRun, args, tx, cancellationToken: ct)) == 0)
        {
            return false;
        }
        await connection.ExecuteAsync(new CommandDefinition(RenewRows, args, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task ReleaseAsync(long editionId, long owner, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(ReleaseRun, new { editionId, owner }, cancellationToken: ct));
    }

    public async Task<EditionRunHolder?> HolderAsync(long editionId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<EditionRunHolder>(new CommandDefinition(Holder, new { editionId }, cancellationToken: ct));
    }

    public async Task<EditionRunHolder?> HolderAsync(string month, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<EditionRunHolder>(new CommandDefinition(HolderByMonth, new { month }, cancellationToken: ct));
    }

    public async Task<long> HeldRowsAsync(long editionId, long owner, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(HeldRows, new { editionId, owner }, cancellationToken: ct));
    }
}
