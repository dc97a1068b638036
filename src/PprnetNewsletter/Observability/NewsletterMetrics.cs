using System.Diagnostics.Metrics;

namespace PprnetNewsletter.Observability;

/// <summary>
/// The service's own instruments, read from the database when a scrape asks for them: the ledger and the attempts
/// are the record of every message, so the figures are right whichever process (service, command line) sent them.
/// </summary>
public sealed class NewsletterMetrics : IDisposable
{
    public const string MeterName = "PprnetNewsletter";

    readonly Meter _meter;
    readonly IMetricsQueries _queries;

    public NewsletterMetrics(IMeterFactory meters, IMetricsQueries queries)
    {
        _queries = queries;
        _meter = meters.Create(MeterName);
        _meter.CreateObservableCounter("pprnet.delivery.attempts", () => Read(_queries.AttemptsByOutcomeAsync, "outcome"), "{message}",
            "Delivery attempts by their outcome (sent, deferred, failed, skipped), resends included.");
        _meter.CreateObservableGauge("pprnet.ledger.rows", () => Read(_queries.LedgerRowsByStateAsync, "state"), "{row}",
            "Rows of the delivery ledger by state, over every edition.");
        _meter.CreateObservableGauge("pprnet.subscribers", () => Read(_queries.SubscribersByStatusAsync, "status"), "{subscriber}",
            "Subscribers by status.");
    }

    // An observable instrument's callback is synchronous (the exporter calls it while it collects a scrape), so the
    // query is waited for here.
    static List<Measurement<long>> Read(Func<CancellationToken, Task<IReadOnlyList<KeyCount>>> query, string label) =>
        query(CancellationToken.None).GetAwaiter().GetResult()
            .Select(row => new Measurement<long>(row.Count, new KeyValuePair<string, object?>(label, row.Key)))
            .ToList();

    public void Dispose() => _meter.Dispose();
}
