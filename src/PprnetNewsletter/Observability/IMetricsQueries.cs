namespace PprnetNewsletter.Observability;

/// <summary>A label and its count (a class, not a positional record: an empty result's count column has no type in SQLite).</summary>
public sealed class KeyCount
{
    public string Key { get; set; } = "";

    public long Count { get; set; }
}

/// <summary>
/// The counts behind the service's metrics, read from the database. One implementation per database engine
/// (<see cref="SqliteMetricsQueries"/>, <see cref="PgMetricsQueries"/>); both share <see cref="SqlMetricsQueries"/>.
/// </summary>
public interface IMetricsQueries
{
    /// <summary>Rows of the delivery ledger by state.</summary>
    Task<IReadOnlyList<KeyCount>> LedgerRowsByStateAsync(CancellationToken ct);

    /// <summary>Delivery attempts by outcome.</summary>
    Task<IReadOnlyList<KeyCount>> AttemptsByOutcomeAsync(CancellationToken ct);

    Task<IReadOnlyList<KeyCount>> SubscribersByStatusAsync(CancellationToken ct);
}
