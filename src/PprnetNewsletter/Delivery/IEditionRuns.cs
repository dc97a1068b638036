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
/// when it ends; a record whose lease lapsed belongs to a dead run and is taken over. Implemented by
/// <see cref="SqliteEditionRuns"/> and <see cref="PgEditionRuns"/>.
/// </summary>
public interface IEditionRuns
{
    /// <summary>
    /// True when <paramref name="owner"/> now holds the edition (it was free, or its holder's lease had lapsed); a dead
    /// holder's rows in 'sending' become claimable at once.
    /// </summary>
    Task<bool> TryAcquireAsync(long editionId, long owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct);

    /// <summary>The heartbeat: extends the run's lease and its rows' leases. False when the run no longer holds the edition.</summary>
    Task<bool> RenewAsync(long editionId, long owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct);

    Task ReleaseAsync(long editionId, long owner, CancellationToken ct);

    /// <summary>The record of the edition, live or not (a dead run's stays until the next run takes it over).</summary>
    Task<EditionRunHolder?> HolderAsync(long editionId, CancellationToken ct);

    Task<EditionRunHolder?> HolderAsync(string month, CancellationToken ct);

    /// <summary>How many rows <paramref name="owner"/> has in 'sending'.</summary>
    Task<long> HeldRowsAsync(long editionId, long owner, CancellationToken ct);
}
