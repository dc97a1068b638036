namespace PprnetNewsletter.Subscribers;

/// <summary>
/// Subscribers, their topic preferences, their consent ledger, suppressions and double opt-in tokens: everything
/// the service keeps about the people on the list. One implementation per database engine
/// (<see cref="SqliteSubscriberStore"/>, <see cref="PgSubscriberStore"/>); both share the rules of
/// <see cref="SubscriberStore"/> and differ only in their SQL.
/// Bad input (address, name, topics, a change the status does not allow) throws a usage error; an unknown
/// subscriber id gives null or false.
/// </summary>
public interface ISubscriberStore
{
    // ---- reading ----

    /// <summary>The subscriber with this address (any case, surrounding spaces ignored), or null.</summary>
    Task<Subscriber?> FindByEmailAsync(string email, CancellationToken ct = default);

    Task<Subscriber?> GetAsync(long id, CancellationToken ct = default);

    /// <summary>Subscribers in id order, <paramref name="limit"/> (1–1000) from <paramref name="offset"/>, with the total.</summary>
    Task<SubscriberPage> ListAsync(SubscriberFilter filter, int offset = 0, int limit = 100, CancellationToken ct = default);

    Task<int> CountAsync(SubscriberFilter? filter = null, CancellationToken ct = default);

    /// <summary>Every subscriber (or those matching <paramref name="filter"/>) in id order, read as it is consumed.</summary>
    IAsyncEnumerable<Subscriber> StreamAllAsync(SubscriberFilter? filter = null, CancellationToken ct = default);

    /// <summary>The consent ledger of a subscriber, oldest first.</summary>
    Task<IReadOnlyList<ConsentRecord>> ConsentEventsAsync(long id, CancellationToken ct = default);

    /// <summary>Everything kept about the subscriber (for "download my data"), or null.</summary>
    Task<PersonalData?> ExportPersonalDataAsync(long id, CancellationToken ct = default);

    /// <summary>True when links signed before ids were made unique (token format v1) may open this subscriber.</summary>
    Task<bool> AcceptsLegacyLinksAsync(long id, CancellationToken ct = default);

    /// <summary>True when the address was erased and may only come back through the web form and its confirmation.</summary>
    Task<bool> IsSuppressedAsync(string email, CancellationToken ct = default);

    /// <summary>The suppression hashes of every suppressed address, to check a large import row by row.</summary>
    Task<IReadOnlySet<string>> SuppressionHashesAsync(CancellationToken ct = default);

    // ---- adding ----

    /// <summary>Adds a subscriber on an administrator's word; an existing or suppressed address is refused.</summary>
    Task<Subscriber> AddAsync(NewSubscriber subscriber, ConsentContext context, CancellationToken ct = default);

    /// <summary>Adds or updates many subscribers in one transaction (CSV import), all or nothing.</summary>
    Task<ImportCounts> ImportAsync(IReadOnlyList<NewSubscriber> rows, ConsentContext context, CancellationToken ct = default);

    /// <summary>The web form: a new or lapsed address becomes pending; a confirmed or paused one is left as it is.</summary>
    Task<SubscribeResult> SubscribeAsync(string email, string? name, TopicSelection topicSelection, ConsentContext context,
        CancellationToken ct = default);

    // ---- changing ----

    /// <summary>Changes the name and topics (null: keep); records 'preferences_changed' only when something changed.</summary>
    Task<Subscriber?> UpdatePreferencesAsync(long id, string? name, TopicSelection? topicSelection, ConsentContext context,
        CancellationToken ct = default);

    /// <summary>Changes name, topics and status together, all checked before anything is written.</summary>
    Task<Subscriber?> UpdateAsync(long id, SubscriberChange change, ConsentContext context, CancellationToken ct = default);

    Task<Subscriber?> PauseAsync(long id, ConsentContext context, CancellationToken ct = default);

    Task<Subscriber?> ResumeAsync(long id, ConsentContext context, CancellationToken ct = default);

    Task<Subscriber?> UnsubscribeAsync(long id, ConsentContext context, CancellationToken ct = default);

    /// <summary>Unsubscribes after a spam complaint and suppresses the address.</summary>
    Task<Subscriber?> UnsubscribeAfterComplaintAsync(long id, ConsentContext context, string? detail, CancellationToken ct = default);

    /// <summary>Stops mail to an address that bounces permanently; an unsubscribed address stays unsubscribed.</summary>
    Task<Subscriber?> MarkBouncedAsync(long id, ConsentContext context, string? detail = null, CancellationToken ct = default);

    /// <summary>"Erase me": deletes the subscriber, anonymises their events and suppresses the address.</summary>
    Task<bool> EraseAsync(long id, ConsentContext context, CancellationToken ct = default);

    /// <summary>An administrator's delete: as erasure, but the address stays addable unless it had unsubscribed or bounced.</summary>
    Task<bool> DeleteAsync(long id, ConsentContext context, CancellationToken ct = default);

    // ---- double opt-in tokens (used by ConfirmationTokens) ----

    /// <summary>Stores a token's hash for the subscriber (purging long-expired ones); false when there is no such subscriber.</summary>
    Task<bool> AddConfirmationTokenAsync(long subscriberId, byte[] tokenHash, DateTimeOffset expiresAt, TimeSpan keepExpiredFor,
        CancellationToken ct = default);

    Task<ConfirmationStatus> CheckConfirmationTokenAsync(byte[] tokenHash, CancellationToken ct = default);

    /// <summary>Spends the token and confirms its subscriber (lifting a suppression of the address), or tells why not.</summary>
    Task<(ConfirmationStatus Status, Subscriber? Subscriber)> RedeemConfirmationTokenAsync(byte[] tokenHash, ConsentContext context,
        CancellationToken ct = default);
}
