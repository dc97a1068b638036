using Dapper;
using Microsoft.Data.Sqlite;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Delivery;

/// <summary>The run that holds an edition: which process on which host, since when, and until when its lease lasts.</summary>
public sealed record EditionRunHolder(long Owner, string Host, long Pid, DateTimeOffset StartedAt, DateTimeOffset HeartbeatAt, DateTimeOffset LeaseUntil)
{
    public bool IsLive(DateTimeOffset now) => LeaseUntil >= now;

    /// <summary>"process 1234 on host-a, started 2026-12-07 16:01:02Z".</summary>
    public string Describe() => $"process {Pid} on {Host}, started {StartedAt:u}";
}

/// <summary>
/// The edition-level run record (table edition_runs): at most one run sends an edition at a time, across threads,
/// processes and hosts sharing the database. A run takes the record, renews it with a heartbeat, and gives it back
/// when it ends; a record whose lease lapsed belongs to a dead run and is taken over.
/// </summary>
public sealed class EditionRuns(Db db)
{
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

    // The rows the run holds keep their lease as long as the run does.
    const string RenewRows = """
        UPDATE deliveries SET lease_until = @leaseUntil
        WHERE edition_id = @editionId AND state = 'sending' AND lease_owner = @owner
        """;

    // Taken over from a dead run: its rows in 'sending' are dead too, whatever is left of their own leases (rows it
    // claimed after its last heartbeat carry a lease a little longer than the run's).
    const string ExpireDeadRows = """
        UPDATE deliveries SET lease_until = @now
        WHERE edition_id = @editionId AND state = 'sending' AND lease_owner IS NOT @owner AND lease_until > @now
        """;

    const string ReleaseRun = "DELETE FROM edition_runs WHERE edition_id = @editionId AND owner = @owner";

    const string Holder = """
        SELECT owner AS Owner, host AS Host, pid AS Pid, started_at AS StartedAt, heartbeat_at AS HeartbeatAt, lease_until AS LeaseUntil
        FROM edition_runs WHERE edition_id = @editionId
        """;

    const string HolderByMonth = """
        SELECT r.owner AS Owner, r.host AS Host, r.pid AS Pid, r.started_at AS StartedAt, r.heartbeat_at AS HeartbeatAt,
               r.lease_until AS LeaseUntil
        FROM edition_runs r JOIN editions e ON e.id = r.edition_id WHERE e.month = @month
        """;

    const string HeldRows = "SELECT count(*) FROM deliveries WHERE edition_id = @editionId AND state = 'sending' AND lease_owner = @owner";

    /// <summary>True when <paramref name="owner"/> now holds the edition (it was free, or its holder's lease had lapsed).</summary>
    public async Task<bool> TryAcquireAsync(long editionId, long owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
        var args = new { editionId, owner, host = Environment.MachineName, pid = Environment.ProcessId, now, leaseUntil };
        if (await connection.ExecuteAsync(new CommandDefinition(Acquire, args, tx, cancellationToken: ct)) != 1)
        {
            return false;
        }
        await connection.ExecuteAsync(new CommandDefinition(ExpireDeadRows, args, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>The heartbeat: extends the run's lease and its rows' leases. False when the run no longer holds the edition.</summary>
    public async Task<bool> RenewAsync(long editionId, long owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
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
        await using var connection = await db.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(ReleaseRun, new { editionId, owner }, cancellationToken: ct));
    }

    /// <summary>The record of the edition, live or not (a dead run's stays until the next run takes it over).</summary>
    public async Task<EditionRunHolder?> HolderAsync(long editionId, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<EditionRunHolder>(new CommandDefinition(Holder, new { editionId }, cancellationToken: ct));
    }

    public async Task<EditionRunHolder?> HolderAsync(string month, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<EditionRunHolder>(new CommandDefinition(HolderByMonth, new { month }, cancellationToken: ct));
    }

    /// <summary>How many rows <paramref name="owner"/> has in 'sending'.</summary>
    public async Task<long> HeldRowsAsync(long editionId, long owner, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(HeldRows, new { editionId, owner }, cancellationToken: ct));
    }
}
