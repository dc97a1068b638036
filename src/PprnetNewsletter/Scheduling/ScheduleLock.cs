using Dapper;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Scheduling;

/// <summary>
/// Lets one instance at a time write the schedule's jobs and triggers into Quartz's store (see
/// <see cref="StoredSchedules"/>). Held for the few calls that store them, never while the scheduler runs.
/// </summary>
public interface IScheduleLock
{
    /// <summary>Waits until no other instance holds the lock; disposing the result releases it.</summary>
    Task<IAsyncDisposable> HoldAsync(CancellationToken ct);
}

/// <summary>With SQLite, Quartz keeps the schedule in this process's memory: there is no other writer to wait for.</summary>
sealed class InMemoryScheduleLock : IScheduleLock
{
    public Task<IAsyncDisposable> HoldAsync(CancellationToken ct) => Task.FromResult<IAsyncDisposable>(Released.Instance);

    sealed class Released : IAsyncDisposable
    {
        public static readonly Released Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>
/// With PostgreSQL, the instances sharing the database share the stored schedule: a transaction-scoped advisory lock
/// makes them take turns, and it ends with the transaction, or with the connection of an instance that dies holding it.
/// </summary>
sealed class PgScheduleLock(PgDb db) : IScheduleLock
{
    /// <summary>An arbitrary constant naming this lock among the database's advisory locks.</summary>
    const long StoreSchedule = 0x7070_726E_6574_0040;

    public async Task<IAsyncDisposable> HoldAsync(CancellationToken ct)
    {
        var connection = await db.OpenAsync(ct);
        try
        {
            var tx = await connection.BeginTransactionAsync(ct);
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(@StoreSchedule)", new { StoreSchedule }, tx,
                cancellationToken: ct));
            return new Held(connection, tx);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    sealed class Held(Npgsql.NpgsqlConnection connection, Npgsql.NpgsqlTransaction tx) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            // The transaction wrote nothing; ending it is what releases the lock.
            await tx.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
