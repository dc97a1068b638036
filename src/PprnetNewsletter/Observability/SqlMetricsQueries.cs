using System.Data.Common;
using Dapper;

namespace PprnetNewsletter.Observability;

/// <summary>The metrics' SQL, the same for both engines.</summary>
public abstract class SqlMetricsQueries : IMetricsQueries
{
    /// <summary>A new open connection to the database; the caller disposes of it.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    const string RowsByState = "SELECT state AS Key, count(*) AS Count FROM deliveries GROUP BY state";
    const string AttemptsByOutcome = "SELECT outcome AS Key, count(*) AS Count FROM delivery_attempts GROUP BY outcome";
    const string SubscribersByStatus = "SELECT status AS Key, count(*) AS Count FROM subscribers GROUP BY status";

    public Task<IReadOnlyList<KeyCount>> LedgerRowsByStateAsync(CancellationToken ct) => ReadAsync(RowsByState, ct);

    public Task<IReadOnlyList<KeyCount>> AttemptsByOutcomeAsync(CancellationToken ct) => ReadAsync(AttemptsByOutcome, ct);

    public Task<IReadOnlyList<KeyCount>> SubscribersByStatusAsync(CancellationToken ct) => ReadAsync(SubscribersByStatus, ct);

    async Task<IReadOnlyList<KeyCount>> ReadAsync(string sql, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return (await connection.QueryAsync<KeyCount>(new CommandDefinition(sql, cancellationToken: ct))).ToList();
    }
}
