using System.Diagnostics.Metrics;
using Dapper;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Observability;

/// <summary>
/// The service's own instruments, read from the database when a scrape asks for them: the ledger and the attempts
/// are the record of every message, so the figures are right whichever process (service, command line) sent them.
/// </summary>
public sealed class NewsletterMetrics : IDisposable
{
    public const string MeterName = "PprnetNewsletter";

    const string RowsByState = "SELECT state AS Key, count(*) AS Count FROM deliveries GROUP BY state";
    const string AttemptsByOutcome = "SELECT outcome AS Key, count(*) AS Count FROM delivery_attempts GROUP BY outcome";
    const string SubscribersByStatus = "SELECT status AS Key, count(*) AS Count FROM subscribers GROUP BY status";

    /// <summary>A label and its count (a class, not a positional record: an empty result's count column has no type in SQLite).</summary>
    sealed class KeyCount
    {
        public string Key { get; set; } = "";

        public long Count { get; set; }
    }

    readonly Meter _meter;
    readonly Db _db;

    public NewsletterMetrics(IMeterFactory meters, Db db)
    {
        _db = db;
        _meter = meters.Create(MeterName);
        _meter.CreateObservableCounter("pprnet.delivery.attempts", () => Read(AttemptsByOutcome, "outcome"), "{message}",
            "Delivery attempts by their outcome (sent, deferred, failed, skipped), resends included.");
        _meter.CreateObservableGauge("pprnet.ledger.rows", () => Read(RowsByState, "state"), "{row}",
            "Rows of the delivery ledger by state, over every edition.");
        _meter.CreateObservableGauge("pprnet.subscribers", () => Read(SubscribersByStatus, "status"), "{subscriber}",
            "Subscribers by status.");
    }

    IEnumerable<Measurement<long>> Read(string sql, string label)
    {
        using var connection = _db.Open();
        return connection.Query<KeyCount>(sql)
            .Select(row => new Measurement<long>(row.Count, new KeyValuePair<string, object?>(label, row.Key)))
            .ToList();
    }

    public void Dispose() => _meter.Dispose();
}
