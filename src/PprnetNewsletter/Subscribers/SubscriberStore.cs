using System.Data;
using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using PprnetNewsletter.Content;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Subscribers;

/// <summary>What became of a web-form subscription.</summary>
public enum SubscribeOutcome
{
    /// <summary>A new address, now pending: send the confirmation email.</summary>
    Created,

    /// <summary>A pending, unsubscribed or bounced address, pending again with the new name and topics: send the confirmation email.</summary>
    Refreshed,

    /// <summary>Already confirmed (or paused): nothing changed; send a "manage your preferences" email instead.</summary>
    AlreadySubscribed,
}

public sealed record SubscribeResult(SubscribeOutcome Outcome, Subscriber Subscriber)
{
    public bool NeedsConfirmation => Outcome != SubscribeOutcome.AlreadySubscribed;
}

/// <summary>A page of subscribers and how many match the filter in all.</summary>
public sealed record SubscriberPage(IReadOnlyList<Subscriber> Items, int Total, int Offset, int Limit);

/// <summary>Which subscribers a list or count covers: a status, and a substring of the address or name (any case).</summary>
public sealed record SubscriberFilter(string? Search = null, string? Status = null);

/// <summary>How many rows an import added, updated, or found already as they were.</summary>
public sealed record ImportCounts(int Added, int Updated, int Unchanged);

/// <summary>Everything the newsletter keeps about one person ("download my data").</summary>
public sealed record PersonalData(
    long Id,
    string Email,
    string Name,
    string Status,
    bool AllTopics,
    IReadOnlyList<Topic> Topics,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ConfirmedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<ConsentRecord> ConsentEvents);

/// <summary>The state of a double opt-in token, as seen by <see cref="ConfirmationTokens"/>.</summary>
public enum ConfirmationStatus
{
    Valid,
    Unknown,
    Expired,
    Used,
}

/// <summary>
/// The rules of <see cref="ISubscriberStore"/>, shared by both engines: validation, normalisation, the decisions
/// (which status moves are allowed, what a change records, what a deletion suppresses) and the order of the writes.
/// An engine supplies only its connections and its SQL (<see cref="SubscriberSql"/>). Every change of state appends
/// its consent event in the same transaction as the change, so the ledger can never disagree with the subscriber table.
/// </summary>
public abstract class SubscriberStore(SubscriberSql sql, TopicCatalog topics, TimeProvider time) : ISubscriberStore
{
    /// <summary>A connection of the engine, open.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    const int MaxUserAgentLength = 512;
    const int MaxIpLength = 64;

    /// <summary>The largest page <see cref="ListAsync"/> returns.</summary>
    public const int MaxPageSize = 1000;

    // Dapper maps rows by constructor: column order and types (SQLite integers are Int64) must match the SELECT.
    sealed record Row(long Id, string Email, string Name, string Status, long AllTopics, DateTimeOffset CreatedAt,
        DateTimeOffset? ConfirmedAt, DateTimeOffset UpdatedAt, TopicIdList TopicIds)
    {
        public Subscriber ToSubscriber() => new(Id, Email, Name, Status, AllTopics != 0, TopicIds.Ids, CreatedAt, ConfirmedAt);
    }

    /// <summary>
    /// A row's topic ids, sorted, read from group_concat's "3,1,7" ("" for none). A type with its own Dapper handler
    /// rather than a string because, before the first row, SQLite cannot tell the type of a computed column: Dapper
    /// then took it for a blob, and a query that found nobody failed to map its (absent) rows.
    /// </summary>
    sealed record TopicIdList(IReadOnlyList<long> Ids);

    sealed class TopicIdListHandler : SqlMapper.TypeHandler<TopicIdList>
    {
        public override TopicIdList Parse(object value) =>
            new(value is string { Length: > 0 } text ? text.Split(',').Select(long.Parse).Order().ToList() : []);

        public override void SetValue(IDbDataParameter parameter, TopicIdList? value) =>
            throw new NotSupportedException("Topic ids are written as rows of subscriber_topics, never as one parameter.");
    }

    // Dapper's handlers are process-wide; registering here guarantees it happens before the store maps a row.
    static SubscriberStore() => SqlMapper.AddTypeHandler(new TopicIdListHandler());

    sealed record TokenRow(long SubscriberId, DateTimeOffset ExpiresAt, DateTimeOffset? UsedAt);

    // The writes are set-based: each statement reads its rows from one JSON array parameter (SQLite's json_each),
    // so a CSV import of 100,000 rows runs the same handful of statements as a change to one subscriber. A
    // statement per row spent far more time binding parameters than SQLite spent writing.

    /// <summary>A subscriber's columns and topics as the writes read them (JSON, camelCase).</summary>
    sealed record Profile(long Id, string Email, string Name, string Status, bool AllTopics, IReadOnlyList<long> TopicIds)
    {
        public bool Confirmed => Status is SubscriberStatus.Confirmed or SubscriberStatus.Paused;

        public static Profile Of(long id, NewSubscriber subscriber) => new(id, subscriber.Email, subscriber.Name,
            subscriber.Status, subscriber.Topics.AllTopics, subscriber.Topics.TopicIds);
    }

    /// <summary>A consent event to append; the source and client come from the <see cref="ConsentContext"/>.</summary>
    sealed record EventRow(long? SubscriberId, string Event, string? Detail);

    /// <summary>A profile to write with the 'preferences_changed' detail that says what changed.</summary>
    sealed record ProfileChange(Profile Profile, string Detail);

    sealed record Inserted(long Id, string Email);

    static readonly JsonSerializerOptions JsonRows = new(JsonSerializerDefaults.Web);

    // ---- reading ----

    /// <summary>The subscriber with this address (any case, surrounding spaces ignored), or null.</summary>
    public async Task<Subscriber?> FindByEmailAsync(string email, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return (await FindRowAsync(connection, null, sql.ByEmail, new { email = email.Trim() }, ct))?.ToSubscriber();
    }

    public async Task<Subscriber?> GetAsync(long id, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return (await FindRowAsync(connection, null, sql.ById, new { id }, ct))?.ToSubscriber();
    }

    /// <summary>Subscribers in id order, <paramref name="limit"/> (1–1000) from <paramref name="offset"/>, with the total.</summary>
    public async Task<SubscriberPage> ListAsync(SubscriberFilter filter, int offset = 0, int limit = 100, CancellationToken ct = default)
    {
        if (offset < 0 || limit is < 1 or > MaxPageSize)
        {
            throw new UsageException($"offset must be 0 or more and limit between 1 and {MaxPageSize}.");
        }
        var args = FilterArgs(filter);
        args.Add("offset", offset);
        args.Add("limit", limit);
        await using var connection = await OpenAsync(ct);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(sql.Page, args, cancellationToken: ct));
        var total = await connection.ExecuteScalarAsync<int>(new CommandDefinition(sql.Count, args, cancellationToken: ct));
        return new SubscriberPage(rows.Select(r => r.ToSubscriber()).ToList(), total, offset, limit);
    }

    public async Task<int> CountAsync(SubscriberFilter? filter = null, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.ExecuteScalarAsync<int>(
            new CommandDefinition(sql.Count, FilterArgs(filter ?? new()), cancellationToken: ct));
    }

    /// <summary>
    /// Every subscriber (or those matching <paramref name="filter"/>) in id order, read as it is consumed: never
    /// the whole list in memory.
    /// </summary>
    public async IAsyncEnumerable<Subscriber> StreamAllAsync(SubscriberFilter? filter = null, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var args = FilterArgs(filter ?? new());
        await using var connection = await OpenAsync(ct);
        await foreach (var row in connection.QueryUnbufferedAsync<Row>(sql.All, args).WithCancellation(ct))
        {
            yield return row.ToSubscriber();
        }
    }

    /// <summary>The consent ledger of a subscriber, oldest first.</summary>
    public async Task<IReadOnlyList<ConsentRecord>> ConsentEventsAsync(long id, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return (await connection.QueryAsync<ConsentRecord>(
            new CommandDefinition(sql.EventsOf, new { id }, cancellationToken: ct))).ToList();
    }

    /// <summary>Everything kept about the subscriber (for "download my data"), or null.</summary>
    public async Task<PersonalData?> ExportPersonalDataAsync(long id, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        var row = await FindRowAsync(connection, null, sql.ById, new { id }, ct);
        if (row is null)
        {
            return null;
        }
        var subscriber = row.ToSubscriber();
        var chosen = new List<Topic>();
        foreach (var topicId in subscriber.TopicIds)
        {
            chosen.Add(await topics.GetAsync(topicId));
        }
        var events = await connection.QueryAsync<ConsentRecord>(
            new CommandDefinition(sql.EventsOf, new { id }, cancellationToken: ct));
        return new PersonalData(row.Id, row.Email, row.Name, row.Status, subscriber.AllTopics,
            chosen.OrderBy(t => t.Name, StringComparer.Ordinal).ToList(), row.CreatedAt, row.ConfirmedAt, row.UpdatedAt, events.ToList());
    }

    /// <summary>
    /// True when links signed before ids were made unique (v1) may open this subscriber: their id was not possibly
    /// held by someone before them (see migration 0008). False for a subscriber added since, or not here.
    /// </summary>
    public async Task<bool> AcceptsLegacyLinksAsync(long id, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>(
            new CommandDefinition(sql.AcceptsLegacyLinks, new { id }, cancellationToken: ct)) > 0;
    }

    /// <summary>True when the address was erased and may only come back through the web form and its confirmation.</summary>
    public async Task<bool> IsSuppressedAsync(string email, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return await IsSuppressedAsync(connection, null, EmailAddressRules.Normalize(email), ct);
    }

    /// <summary>The suppression hashes (see <see cref="SuppressionHash"/>) of every suppressed address, to check a large import row by row.</summary>
    public async Task<IReadOnlySet<string>> SuppressionHashesAsync(CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return await SuppressionHashesAsync(connection, null, ct);
    }

    // ---- adding ----

    /// <summary>
    /// Adds a subscriber on an administrator's word (command line, admin API): confirmed unless
    /// <see cref="NewSubscriber.Status"/> says otherwise. An existing or erased (suppressed) address is refused.
    /// </summary>
    public async Task<Subscriber> AddAsync(NewSubscriber subscriber, ConsentContext context, CancellationToken ct = default)
    {
        var checkedSubscriber = Check(subscriber);
        return await InTransactionAsync(async (connection, tx) =>
        {
            await LockAdditionsAsync(connection, tx, ct);
            if (await FindRowAsync(connection, tx, sql.ByEmail, new { email = checkedSubscriber.Email }, ct) is { } existing)
            {
                throw new UsageException($"{existing.Email} is already a subscriber (id {existing.Id}, {existing.Status}).");
            }
            await RefuseSuppressedAsync(connection, tx, checkedSubscriber.Email, ct);
            var id = (await InsertAsync(connection, tx, [checkedSubscriber], context, ct))[0];
            return (await FindRowAsync(connection, tx, sql.ById, new { id }, ct))!.ToSubscriber();
        }, ct);
    }

    /// <summary>
    /// Adds or updates many subscribers in one transaction (CSV import): new addresses are added as
    /// <see cref="AddAsync"/> does; existing ones get the row's name and topics, and keep their status.
    /// All or nothing: a bad row throws and nothing is written.
    /// </summary>
    public async Task<ImportCounts> ImportAsync(IReadOnlyList<NewSubscriber> rows, ConsentContext context, CancellationToken ct = default)
    {
        var checkedRows = rows.Select(Check).ToList();
        return await InTransactionAsync(async (connection, tx) =>
        {
            await LockAdditionsAsync(connection, tx, ct);
            var existing = (await connection.QueryAsync<Row>(new CommandDefinition(sql.ByEmails,
                new { emails = Json(checkedRows.Select(r => r.Email)) }, tx, cancellationToken: ct)))
                .ToDictionary(r => EmailAddressRules.Key(r.Email), StringComparer.Ordinal);
            // Erased addresses are few: one read of them all beats a query per row of a large file.
            var suppressed = await SuppressionHashesAsync(connection, tx, ct);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var added = new List<NewSubscriber>();
            var changed = new List<ProfileChange>();
            foreach (var row in checkedRows)
            {
                var key = EmailAddressRules.Key(row.Email);
                if (!seen.Add(key))
                {
                    throw new UsageException($"{row.Email} appears more than once (addresses are compared ignoring case); keep one row for it.");
                }
                if (!existing.TryGetValue(key, out var current))
                {
                    if (suppressed.Count > 0 && suppressed.Contains(SuppressionHash(row.Email)))
                    {
                        throw new UsageException(SuppressedMessage(row.Email));
                    }
                    added.Add(row);
                }
                else if (ChangeOf(current, row.Name, row.Topics) is { } change)
                {
                    changed.Add(change);
                }
            }
            await InsertAsync(connection, tx, added, context, ct);
            await UpdateProfilesAsync(connection, tx, changed, context, ct);
            return new ImportCounts(added.Count, changed.Count, checkedRows.Count - added.Count - changed.Count);
        }, ct);
    }

    /// <summary>
    /// The web form: a new address is added as pending; a pending, unsubscribed or bounced one becomes pending
    /// again with the new name and topics; a confirmed or paused one is left as it is (the caller mails a
    /// preferences link instead, and shows the same page either way). An erased address may subscribe anew:
    /// its suppression is lifted only when the confirmation link is used.
    /// </summary>
    public async Task<SubscribeResult> SubscribeAsync(string email, string? name, TopicSelection topicSelection,
        ConsentContext context, CancellationToken ct = default)
    {
        var request = Check(new NewSubscriber(email, name ?? "", topicSelection, SubscriberStatus.Pending));
        return await InTransactionAsync(async (connection, tx) =>
        {
            await LockAdditionsAsync(connection, tx, ct);
            var existing = await FindRowAsync(connection, tx, sql.ByEmail + sql.ForUpdate, new { email = request.Email }, ct);
            if (existing is { Status: SubscriberStatus.Confirmed or SubscriberStatus.Paused })
            {
                return new SubscribeResult(SubscribeOutcome.AlreadySubscribed, existing.ToSubscriber());
            }
            long id;
            if (existing is null)
            {
                id = (await InsertAsync(connection, tx, [request], context, ct))[0];
            }
            else
            {
                id = existing.Id;
                await WriteProfilesAsync(connection, tx, [Profile.Of(id, request)], ct);
                await SetStatusAsync(connection, tx, id, SubscriberStatus.Pending, ct);
                await AppendEventAsync(connection, tx, id, ConsentEvent.Subscribed, context, null, ct);
            }
            var subscriber = (await FindRowAsync(connection, tx, sql.ById, new { id }, ct))!.ToSubscriber();
            return new SubscribeResult(existing is null ? SubscribeOutcome.Created : SubscribeOutcome.Refreshed, subscriber);
        }, ct);
    }

    // ---- changing ----

    /// <summary>
    /// Changes the name (null: keep it) and the topics (null: keep them). Records 'preferences_changed' only when
    /// something did change. Null when there is no such subscriber.
    /// </summary>
    public Task<Subscriber?> UpdatePreferencesAsync(long id, string? name, TopicSelection? topicSelection,
        ConsentContext context, CancellationToken ct = default) =>
        UpdateAsync(id, new SubscriberChange(name, topicSelection, null), context, ct);

    /// <summary>
    /// Changes name, topics and status together, in one transaction: every part is checked (the status move
    /// against the subscriber's current status) before anything is written, so a refused change changes nothing.
    /// <see cref="SubscriberChange.Status"/> is paused, confirmed (resume) or unsubscribed. Null when there is no such subscriber.
    /// </summary>
    public Task<Subscriber?> UpdateAsync(long id, SubscriberChange change, ConsentContext context, CancellationToken ct = default)
    {
        var newName = change.Name is null ? null : SubscriberNameRules.Normalize(change.Name);
        if (change.Topics is not null)
        {
            CheckTopics(change.Topics);
        }
        var move = change.Status is null ? null : StatusMove.ByTarget(change.Status);
        return ChangeAsync(id, async (connection, tx, row) =>
        {
            var moves = move is not null && move.Applies(row.Status);
            if (ChangeOf(row, newName ?? row.Name, change.Topics ?? row.ToSubscriber().Topics) is { } profileChange)
            {
                await UpdateProfilesAsync(connection, tx, [profileChange], context, ct);
            }
            if (moves)
            {
                await SetStatusAsync(connection, tx, id, move!.To, ct);
                await AppendEventAsync(connection, tx, id, move.Event, context, null, ct);
            }
        }, ct);
    }

    /// <summary>Stops the monthly digest without unsubscribing. Only a confirmed subscription can be paused.</summary>
    public Task<Subscriber?> PauseAsync(long id, ConsentContext context, CancellationToken ct = default) =>
        MoveAsync(id, StatusMove.Pause, context, null, ct);

    /// <summary>Starts the digest again after a pause.</summary>
    public Task<Subscriber?> ResumeAsync(long id, ConsentContext context, CancellationToken ct = default) =>
        MoveAsync(id, StatusMove.Resume, context, null, ct);

    /// <summary>Unsubscribes from any state (form, one-click, admin, email). Unsubscribing twice changes nothing.</summary>
    public Task<Subscriber?> UnsubscribeAsync(long id, ConsentContext context, CancellationToken ct = default) =>
        MoveAsync(id, StatusMove.Unsubscribe, context, null, ct);

    /// <summary>
    /// Unsubscribes after a spam complaint and suppresses the address, so an administrator or an import cannot add it
    /// back: only the person can, through the web form and its confirmation. <paramref name="detail"/> goes into the ledger.
    /// </summary>
    public Task<Subscriber?> UnsubscribeAfterComplaintAsync(long id, ConsentContext context, string? detail, CancellationToken ct = default) =>
        ChangeAsync(id, async (connection, tx, row) =>
        {
            if (row.Status != SubscriberStatus.Unsubscribed)
            {
                await SetStatusAsync(connection, tx, id, SubscriberStatus.Unsubscribed, ct);
                await AppendEventAsync(connection, tx, id, ConsentEvent.Unsubscribed, context, detail, ct);
            }
            await connection.ExecuteAsync(new CommandDefinition(sql.Suppress,
                new { hash = SuppressionHash(row.Email), reason = "complaint", now = time.GetUtcNow() }, tx, cancellationToken: ct));
        }, ct);

    /// <summary>
    /// Stops mail to an address that bounces permanently; <paramref name="detail"/> (e.g. the SMTP reply) goes into
    /// the ledger. An unsubscribed address stays unsubscribed.
    /// </summary>
    public Task<Subscriber?> MarkBouncedAsync(long id, ConsentContext context, string? detail = null, CancellationToken ct = default) =>
        MoveAsync(id, StatusMove.Bounce, context, detail, ct);

    /// <summary>
    /// "Erase me": deletes the subscriber with their topics and tokens, clears the personal columns of their consent
    /// events (and the SMTP replies of their deliveries), keeps a SHA-256 of the address in suppressions so it is
    /// never added again except through the web form, and records 'erased'. False when there is no such subscriber.
    /// </summary>
    public Task<bool> EraseAsync(long id, ConsentContext context, CancellationToken ct = default) =>
        RemoveAsync(id, context, suppress: true, ct);

    /// <summary>
    /// An administrator's delete: removes the subscriber and anonymises their events as <see cref="EraseAsync"/>
    /// does. The address can be added again, unless the person had unsubscribed or bounced: then it stays suppressed
    /// until its owner subscribes and confirms anew.
    /// </summary>
    public Task<bool> DeleteAsync(long id, ConsentContext context, CancellationToken ct = default) =>
        RemoveAsync(id, context, suppress: false, ct);

    // ---- double opt-in tokens (used by ConfirmationTokens) ----

    public async Task<bool> AddConfirmationTokenAsync(long subscriberId, byte[] tokenHash, DateTimeOffset expiresAt,
        TimeSpan keepExpiredFor, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        return await InTransactionAsync(async (connection, tx) =>
        {
            if (await FindRowAsync(connection, tx, sql.ById, new { id = subscriberId }, ct) is null)
            {
                return false;
            }
            await connection.ExecuteAsync(new CommandDefinition(sql.PurgeTokens,
                new { before = now - keepExpiredFor }, tx, cancellationToken: ct));
            await connection.ExecuteAsync(new CommandDefinition(sql.InsertToken,
                new { hash = Convert.ToHexStringLower(tokenHash), id = subscriberId, now, expiresAt }, tx, cancellationToken: ct));
            return true;
        }, ct);
    }

    public async Task<ConfirmationStatus> CheckConfirmationTokenAsync(byte[] tokenHash, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return StateOf(await FindTokenAsync(connection, null, tokenHash, ct));
    }

    /// <summary>
    /// Spends the token and confirms its subscriber (lifting a suppression of the address), or tells why not.
    /// A subscriber already confirmed or paused stays as they are.
    /// </summary>
    public async Task<(ConfirmationStatus Status, Subscriber? Subscriber)> RedeemConfirmationTokenAsync(
        byte[] tokenHash, ConsentContext context, CancellationToken ct = default)
    {
        return await InTransactionAsync<(ConfirmationStatus, Subscriber?)>(async (connection, tx) =>
        {
            var token = await FindTokenAsync(connection, tx, tokenHash, ct);
            var status = StateOf(token);
            if (status != ConfirmationStatus.Valid)
            {
                return (status, null);
            }
            var row = (await FindRowAsync(connection, tx, sql.ById + sql.ForUpdate, new { id = token!.SubscriberId }, ct))!;
            var now = time.GetUtcNow();
            await connection.ExecuteAsync(new CommandDefinition(sql.SpendTokens, new { id = row.Id, now }, tx, cancellationToken: ct));
            if (row.Status is not (SubscriberStatus.Confirmed or SubscriberStatus.Paused))
            {
                await SetStatusAsync(connection, tx, row.Id, SubscriberStatus.Confirmed, ct);
                await AppendEventAsync(connection, tx, row.Id, ConsentEvent.Confirmed, context, null, ct);
                await connection.ExecuteAsync(new CommandDefinition(sql.LiftSuppression,
                    new { hash = SuppressionHash(row.Email) }, tx, cancellationToken: ct));
            }
            return (ConfirmationStatus.Valid, (await FindRowAsync(connection, tx, sql.ById, new { id = row.Id }, ct))!.ToSubscriber());
        }, ct);
    }

    /// <summary>The suppression key of an address: SHA-256 (hex) of the lower-cased address.</summary>
    public static string SuppressionHash(string email) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(EmailAddressRules.Key(email.Trim()))));

    // ---- the machinery ----

    async Task<T> InTransactionAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        // Microsoft.Data.Sqlite begins IMMEDIATE: the write lock is taken up front, so the read-then-write below
        // cannot fail half-way on a lock upgrade when two requests change the same subscriber. PostgreSQL locks only
        // the rows read with sql.ForUpdate, which every read that decides a write uses.
        await using var tx = await connection.BeginTransactionAsync(ct);
        var result = await work(connection, tx);
        await tx.CommitAsync(ct);
        return result;
    }

    /// <summary>
    /// Transactions that may add subscribers run one at a time, so two of them cannot both find an address free and
    /// both insert it (the second would fail on the unique index instead of finding the first one's row).
    /// </summary>
    async Task LockAdditionsAsync(DbConnection connection, DbTransaction tx, CancellationToken ct)
    {
        if (sql.LockAdditions.Length > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(sql.LockAdditions, transaction: tx, cancellationToken: ct));
        }
    }

    static async Task<Row?> FindRowAsync(DbConnection connection, DbTransaction? tx, string sql, object args, CancellationToken ct) =>
        await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(sql, args, tx, cancellationToken: ct));

    async Task<TokenRow?> FindTokenAsync(DbConnection connection, DbTransaction? tx, byte[] tokenHash, CancellationToken ct) =>
        await connection.QuerySingleOrDefaultAsync<TokenRow>(new CommandDefinition(sql.TokenByHash,
            new { hash = Convert.ToHexStringLower(tokenHash) }, tx, cancellationToken: ct));

    ConfirmationStatus StateOf(TokenRow? token) =>
        token is null ? ConfirmationStatus.Unknown
        : token.UsedAt is not null ? ConfirmationStatus.Used
        : token.ExpiresAt <= time.GetUtcNow() ? ConfirmationStatus.Expired
        : ConfirmationStatus.Valid;

    /// <summary>Runs <paramref name="change"/> on an existing subscriber in a transaction; the subscriber afterwards, or null.</summary>
    async Task<Subscriber?> ChangeAsync(long id, Func<DbConnection, DbTransaction, Row, Task> change, CancellationToken ct) =>
        await InTransactionAsync(async (connection, tx) =>
        {
            var row = await FindRowAsync(connection, tx, sql.ById + sql.ForUpdate, new { id }, ct);
            if (row is null)
            {
                return null;
            }
            await change(connection, tx, row);
            return (await FindRowAsync(connection, tx, sql.ById, new { id }, ct))!.ToSubscriber();
        }, ct);

    /// <summary>Moves a subscriber as <paramref name="move"/> says (or refuses, changing nothing).</summary>
    Task<Subscriber?> MoveAsync(long id, StatusMove move, ConsentContext context, string? detail, CancellationToken ct) =>
        ChangeAsync(id, async (connection, tx, row) =>
        {
            if (move.Applies(row.Status))
            {
                await SetStatusAsync(connection, tx, id, move.To, ct);
                await AppendEventAsync(connection, tx, id, move.Event, context, detail, ct);
            }
        }, ct);

    Task<bool> RemoveAsync(long id, ConsentContext context, bool suppress, CancellationToken ct) =>
        InTransactionAsync(async (connection, tx) =>
        {
            var row = await FindRowAsync(connection, tx, sql.ById + sql.ForUpdate, new { id }, ct);
            if (row is null)
            {
                return false;
            }
            await connection.ExecuteAsync(new CommandDefinition(sql.Erase, new { id }, tx, cancellationToken: ct));
            // A deleted person who had unsubscribed or bounced stays suppressed: deleting the row must not turn a
            // withdrawn consent into none recorded, which a later import would read as "new, confirmed".
            var reason = suppress ? "erased"
                : row.Status is SubscriberStatus.Unsubscribed or SubscriberStatus.Bounced ? row.Status
                : null;
            if (reason is not null)
            {
                await connection.ExecuteAsync(new CommandDefinition(sql.Suppress,
                    new { hash = SuppressionHash(row.Email), reason, now = time.GetUtcNow() }, tx, cancellationToken: ct));
            }
            // The event of an erasure carries nothing personal: no subscriber, no IP address, no user agent.
            await AppendEventAsync(connection, tx, null, ConsentEvent.Erased, new ConsentContext(context.Source),
                suppress ? "erased; address kept only as a suppression hash" : "deleted by an administrator", ct);
            return true;
        }, ct);

    /// <summary>
    /// Adds new subscribers (their addresses known to be free) with their topics, and for each the event that says
    /// how the subscription came to be: asked for (pending), or vouched for by an administrator. Their ids, in order.
    /// </summary>
    async Task<IReadOnlyList<long>> InsertAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<NewSubscriber> subscribers,
        ConsentContext context, CancellationToken ct)
    {
        var inserted = await connection.QueryAsync<Inserted>(new CommandDefinition(sql.Insert,
            new { rows = Json(subscribers.Select(s => Profile.Of(0, s))), now = time.GetUtcNow() }, tx, cancellationToken: ct));
        var idOf = inserted.ToDictionary(r => EmailAddressRules.Key(r.Email), r => r.Id, StringComparer.Ordinal);
        var profiles = subscribers.Select(s => Profile.Of(idOf[EmailAddressRules.Key(s.Email)], s)).ToList();
        await connection.ExecuteAsync(new CommandDefinition(sql.AddTopics, new { rows = Json(profiles) }, tx, cancellationToken: ct));
        await AppendEventsAsync(connection, tx, profiles.Select(p => new EventRow(p.Id, CreationEvent(p.Status), null)).ToList(), context, ct);
        return profiles.Select(p => p.Id).ToList();
    }

    static string CreationEvent(string status) => status switch
    {
        SubscriberStatus.Pending => ConsentEvent.Subscribed,
        SubscriberStatus.Paused => ConsentEvent.Paused,
        SubscriberStatus.Unsubscribed => ConsentEvent.Unsubscribed,
        SubscriberStatus.Bounced => ConsentEvent.Bounced,
        _ => ConsentEvent.Confirmed,
    };

    /// <summary>The subscriber with a new name and topics, and what changed; null when both are as they were.</summary>
    static ProfileChange? ChangeOf(Row row, string name, TopicSelection topicSelection)
    {
        var changes = new List<string>();
        if (name != row.Name)
        {
            changes.Add("name");
        }
        if (!row.ToSubscriber().Topics.Equals(topicSelection))
        {
            changes.Add("topics");
        }
        return changes.Count == 0
            ? null
            : new ProfileChange(new Profile(row.Id, row.Email, name, row.Status, topicSelection.AllTopics, topicSelection.TopicIds),
                $"changed: {string.Join(", ", changes)}; topics: {Describe(topicSelection)}");
    }

    /// <summary>Writes the changed names and topics, each with a 'preferences_changed' event.</summary>
    async Task UpdateProfilesAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<ProfileChange> changes, ConsentContext context,
        CancellationToken ct)
    {
        await WriteProfilesAsync(connection, tx, changes.Select(c => c.Profile).ToList(), ct);
        await AppendEventsAsync(connection, tx,
            changes.Select(c => new EventRow(c.Profile.Id, ConsentEvent.PreferencesChanged, c.Detail)).ToList(), context, ct);
    }

    /// <summary>Writes the names and topics of existing subscribers (their status stays as it is).</summary>
    async Task WriteProfilesAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<Profile> profiles, CancellationToken ct)
    {
        var rows = Json(profiles);
        await connection.ExecuteAsync(new CommandDefinition(sql.UpdateProfiles, new { rows, now = time.GetUtcNow() }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(sql.ClearTopics, new { rows }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(sql.AddTopics, new { rows }, tx, cancellationToken: ct));
    }

    async Task SetStatusAsync(DbConnection connection, DbTransaction tx, long id, string status, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await connection.ExecuteAsync(new CommandDefinition(sql.UpdateStatus,
            new { id, status, now, confirmedAt = status == SubscriberStatus.Confirmed ? now : (DateTimeOffset?)null },
            tx, cancellationToken: ct));
    }

    Task AppendEventAsync(DbConnection connection, DbTransaction tx, long? subscriberId, string @event, ConsentContext context,
        string? detail, CancellationToken ct) =>
        AppendEventsAsync(connection, tx, [new EventRow(subscriberId, @event, detail)], context, ct);

    async Task AppendEventsAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<EventRow> events, ConsentContext context,
        CancellationToken ct) =>
        await connection.ExecuteAsync(new CommandDefinition(sql.AppendEvents, new
        {
            events = Json(events),
            source = context.Source,
            now = time.GetUtcNow(),
            ip = Truncate(context.Ip, MaxIpLength),
            userAgent = Truncate(context.UserAgent, MaxUserAgentLength),
            consentVersion = context.ConsentVersion,
        }, tx, cancellationToken: ct));

    async Task<bool> IsSuppressedAsync(DbConnection connection, DbTransaction? tx, string email, CancellationToken ct) =>
        await connection.ExecuteScalarAsync<long>(new CommandDefinition(sql.IsSuppressed,
            new { hash = SuppressionHash(email) }, tx, cancellationToken: ct)) > 0;

    async Task<HashSet<string>> SuppressionHashesAsync(DbConnection connection, DbTransaction? tx, CancellationToken ct) =>
        (await connection.QueryAsync<string>(new CommandDefinition(sql.SuppressionHashes, transaction: tx, cancellationToken: ct)))
            .ToHashSet(StringComparer.Ordinal);

    async Task RefuseSuppressedAsync(DbConnection connection, DbTransaction tx, string email, CancellationToken ct)
    {
        if (await IsSuppressedAsync(connection, tx, email, ct))
        {
            throw new UsageException(SuppressedMessage(email));
        }
    }

    /// <summary>Why a suppressed address (erased, or deleted after unsubscribing or bouncing) cannot be added by an administrator.</summary>
    public static string SuppressedMessage(string email) =>
        $"{email} unsubscribed, bounced or asked to be erased; it can only subscribe again itself, through the web form and its confirmation email.";

    static NewSubscriber Check(NewSubscriber subscriber)
    {
        if (!SubscriberStatus.IsKnown(subscriber.Status))
        {
            throw new UsageException($"Unknown status '{subscriber.Status}'; use one of {string.Join(", ", SubscriberStatus.All)}.");
        }
        CheckTopics(subscriber.Topics);
        return subscriber with
        {
            Email = EmailAddressRules.Normalize(subscriber.Email),
            Name = SubscriberNameRules.Normalize(subscriber.Name),
        };
    }

    static void CheckTopics(TopicSelection topicSelection)
    {
        if (topicSelection.IsEmpty)
        {
            throw new UsageException("Choose at least one topic, or all topics.");
        }
    }

    static DynamicParameters FilterArgs(SubscriberFilter filter)
    {
        if (filter.Status is not null && !SubscriberStatus.IsKnown(filter.Status))
        {
            throw new UsageException($"Unknown status '{filter.Status}'; use one of {string.Join(", ", SubscriberStatus.All)}.");
        }
        var search = string.IsNullOrWhiteSpace(filter.Search) ? null : filter.Search.Trim().ToLowerInvariant();
        var args = new DynamicParameters();
        args.Add("status", filter.Status);
        args.Add("search", search);
        return args;
    }

    static string Describe(TopicSelection topicSelection) =>
        topicSelection.AllTopics ? "all" : string.Join(",", topicSelection.TopicIds);

    static string Json<T>(IEnumerable<T> rows) => JsonSerializer.Serialize(rows, JsonRows);

    static string? Truncate(string? text, int length) => text is null || text.Length <= length ? text : text[..length];
}
