namespace PprnetNewsletter.Delivery;

/// <summary>The states of a ledger row (deliveries.state).</summary>
public static class DeliveryState
{
    public const string Pending = "pending";
    public const string Sending = "sending";
    public const string Sent = "sent";
    public const string Deferred = "deferred";
    public const string Failed = "failed";
    public const string Skipped = "skipped";

    public static IReadOnlyList<string> All { get; } = [Pending, Sending, Sent, Deferred, Failed, Skipped];
}

/// <summary>
/// A ledger row claimed for sending, with its recipient as they are now. <see cref="Recipient"/> is null when the
/// subscriber was deleted; <see cref="SubscriberStatus"/> may no longer be 'confirmed' (unsubscribed since enqueue).
/// </summary>
public sealed record ClaimedDelivery(long DeliveryId, int ResendCount, DateTimeOffset? FirstAttemptAt, Recipient? Recipient, string? SubscriberStatus)
{
    /// <summary>Attempts already retried within the run that holds the row.</summary>
    public int Retries { get; init; }

    /// <summary>The failed attempts behind <see cref="Retries"/>: written to the history with the row's outcome.</summary>
    public IReadOnlyList<DeliveryOutcome>? Earlier { get; init; }
}

/// <summary>What became of one attempt at one row; the ledger records it on the row and in its history.</summary>
public sealed record DeliveryOutcome(
    long DeliveryId,
    int ResendCount,
    string State,
    DateTimeOffset At,
    DateTimeOffset? NextAttemptAt = null,
    int? SmtpCode = null,
    string? EnhancedStatus = null,
    string? Reply = null,
    string? Error = null,
    string? MessageId = null)
{
    /// <summary>Attempts that failed before this one in the same run (retried at once): history entries only.</summary>
    public IReadOnlyList<DeliveryOutcome>? Earlier { get; init; }
}

/// <summary>Rows added to an edition's ledger: <see cref="Skipped"/> of them settled already (no matching topic).</summary>
public sealed record Enqueued(int Rows, int Skipped);

/// <summary>How many rows an edition has in one state, and the commonest reasons behind failed and deferred rows.</summary>
public sealed record LedgerCounts(IReadOnlyDictionary<string, long> ByState, IReadOnlyList<FailureReason> TopReasons);

public sealed record FailureReason(string State, string Reason, long Count, string? Example);

/// <summary>Reasons the engine records on rows it settles without an SMTP attempt.</summary>
public static class DeliveryReason
{
    /// <summary>Why a row was skipped: recorded on rows settled at enqueue and on rows Compose found nothing for.</summary>
    public const string NoMatchingTopics = "nothing this month matches the subscriber's topics";
}
