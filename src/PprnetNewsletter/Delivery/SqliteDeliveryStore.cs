using System.Data;
using System.Text.Json;
using System.Runtime.CompilerServices;
using Dapper;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using PprnetNewsletter.Content;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// The per-recipient delivery ledger in SQLite: one row per edition and subscriber, the unit of resumable sending.
/// The SQLite implementation of the engine's <see cref="IDeliveryStore"/> (its run records: <see cref="SqliteEditionRuns"/>).
/// </summary>
public sealed class SqliteDeliveryStore(Db db) : DeliveryStoreBase, IDeliveryStore
{
    protected override async Task<System.Data.Common.DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);

    // One statement per state for the whole list; the unique (edition_id, subscriber_id) makes it idempotent.
    // Hashing every address for the suppression check costs more than the insert itself, so it is only asked for
    // when there are suppressions at all (the subscribers feature keeps suppressed addresses out of 'confirmed'
    // anyway). With @skipWithoutMatch, subscribers who chose none of the edition's topics (nor all topics) are
    // inserted already skipped: the same rule as the digests feature's DigestSelection, applied in one pass.
    static string Enqueue(bool checkSuppressions, bool skipped) => $"""
        INSERT INTO deliveries (edition_id, subscriber_id, state, last_error, created_at, updated_at)
        SELECT @editionId, s.id, {(skipped ? "'skipped', @noMatch" : "'pending', NULL")}, @now, @now
        FROM subscribers s
        WHERE s.status = 'confirmed'
          AND (@confirmedAfter IS NULL OR s.confirmed_at > @confirmedAfter)
          {(checkSuppressions ? "AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email_hash = suppression_hash(s.email))" : "")}
          AND {(skipped ? "NOT" : "")} (NOT @skipWithoutMatch OR s.all_topics = 1 OR EXISTS (
                SELECT 1 FROM subscriber_topics t
                WHERE t.subscriber_id = s.id
                  AND t.topic_id IN (SELECT m.topic_id FROM summary_topics m JOIN summaries e ON e.id = m.summary_id
                                     WHERE e.edition_id = @editionId)))
        ON CONFLICT (edition_id, subscriber_id) DO NOTHING
        """;

    const string AnySuppression = "SELECT EXISTS (SELECT 1 FROM suppressions)";

    // Expired leases and due deferred rows first (few: the rows in 'sending' through ix_deliveries_state, the deferred
    // ones through their partial index), then pending rows in order: three statements in one transaction, each able to
    // use its own index. Expired leases are taken from other runs only: a run's own rows can wait in its queue past
    // their lease when sending is slow, and are still on their way.
    static readonly string[] Claims = [.. new[]
    {
        "state = 'sending' AND lease_until < @now AND lease_owner IS NOT @owner AND edition_id = @editionId",
        "state = 'deferred' AND next_attempt_at <= @now AND edition_id = @editionId",
        "edition_id = @editionId AND state = 'pending' ORDER BY id",
    }.Select(rows => $"""
        UPDATE deliveries SET state = 'sending', lease_until = @leaseUntil, lease_owner = @owner, updated_at = @now
        WHERE id IN (SELECT id FROM deliveries WHERE {rows} LIMIT @limit)
        RETURNING id
        """)];

    const string ClaimedRecipients = """
        SELECT d.id AS DeliveryId, d.resend_count AS ResendCount, d.first_attempt_at AS FirstAttemptAt,
               s.id AS SubscriberId, s.email AS Email, s.name AS Name, s.status AS Status, s.all_topics AS AllTopics,
               (SELECT group_concat(t.topic_id) FROM subscriber_topics t WHERE t.subscriber_id = s.id) AS TopicIds
        FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id
        WHERE d.id IN (SELECT value FROM json_each(@ids))
        ORDER BY d.id
        """;

    const string RecordOutcome = """
        UPDATE deliveries
        SET state = @state, attempts = attempts + 1, lease_until = NULL, lease_owner = NULL, next_attempt_at = @next,
            first_attempt_at = coalesce(first_attempt_at, @at), last_error = @error, smtp_code = @code,
            enhanced_status = @enhanced, smtp_reply = @reply, message_id = coalesce(@messageId, message_id),
            updated_at = @at, sent_at = CASE WHEN @state = 'sent' THEN @at ELSE sent_at END
        WHERE id = @id
        """;

    const string RecordAttempt = """
        INSERT INTO delivery_attempts (delivery_id, resend_count, attempted_at, outcome, smtp_code, enhanced_status,
                                       smtp_reply, error, message_id)
        VALUES (@id, @resendCount, @at, @state, @code, @enhanced, @reply, @error, @messageId)
        """;

    const string Release = """
        UPDATE deliveries SET state = 'pending', lease_until = NULL, lease_owner = NULL, updated_at = @now
        WHERE id IN (SELECT value FROM json_each(@ids)) AND state = 'sending'
        """;

    const string EligibleNotDone = """
        SELECT s.id AS SubscriberId, s.email AS Email, s.name AS Name, s.status AS Status, s.all_topics AS AllTopics,
               (SELECT group_concat(t.topic_id) FROM subscriber_topics t WHERE t.subscriber_id = s.id) AS TopicIds
        FROM subscribers s
        WHERE s.status = 'confirmed'
          AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email_hash = suppression_hash(s.email))
          AND NOT EXISTS (SELECT 1 FROM deliveries d
                          WHERE d.edition_id = @editionId AND d.subscriber_id = s.id AND d.state IN ('sent', 'skipped', 'failed'))
        ORDER BY s.id
        """;

    // Mapped by property, not constructor: SQLite reports a NULL column as a blob, which no constructor matches.
    sealed class ClaimedRow
    {
        public long DeliveryId { get; init; }

        public long ResendCount { get; init; }

        public DateTimeOffset? FirstAttemptAt { get; init; }

        public long? SubscriberId { get; init; }

        public string? Email { get; init; }

        public string? Name { get; init; }

        public string? Status { get; init; }

        public long? AllTopics { get; init; }

        public string? TopicIds { get; init; }
    }

    /// <summary>
    /// Moves the edition from draft to sending and enqueues every eligible subscriber, in one transaction: either
    /// the edition is 'sending' with its whole list, or nothing happened. Returns the rows enqueued, or null when
    /// the edition was not a draft (another process, or an earlier run, started it).
    /// </summary>
    /// <param name="skipWithoutMatch">Settle subscribers with none of the edition's topics as skipped right away.</param>
    public async Task<Enqueued?> StartAsync(long editionId, DateTimeOffset now, bool skipWithoutMatch, CancellationToken ct = default)
    {
        await using var connection = await OpenWithFunctionsAsync(ct);
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
        if (await connection.ExecuteAsync(new CommandDefinition(StartEdition, new { editionId, now }, tx, cancellationToken: ct)) == 0)
        {
            return null;
        }
        var rows = await EnqueueAsync(connection, tx, editionId, null, now, skipWithoutMatch, ct);
        await tx.CommitAsync(ct);
        return rows;
    }

    /// <summary>Enqueues eligible subscribers confirmed after <paramref name="confirmedAfter"/> who have no row yet.</summary>
    public async Task<Enqueued> EnqueueConfirmedAfterAsync(long editionId, DateTimeOffset confirmedAfter, DateTimeOffset now, bool skipWithoutMatch,
        CancellationToken ct = default)
    {
        await using var connection = await OpenWithFunctionsAsync(ct);
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
        var rows = await EnqueueAsync(connection, tx, editionId, confirmedAfter, now, skipWithoutMatch, ct);
        await tx.CommitAsync(ct);
        return rows;
    }

    static async Task<Enqueued> EnqueueAsync(SqliteConnection connection, SqliteTransaction tx, long editionId, DateTimeOffset? confirmedAfter,
        DateTimeOffset now, bool skipWithoutMatch, CancellationToken ct)
    {
        var check = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(AnySuppression, transaction: tx, cancellationToken: ct));
        var parameters = new { editionId, now, confirmedAfter, skipWithoutMatch, noMatch = DeliveryReason.NoMatchingTopics };
        var skipped = skipWithoutMatch
            ? await connection.ExecuteAsync(new CommandDefinition(Enqueue(check, skipped: true), parameters, tx, commandTimeout: 0, cancellationToken: ct))
            : 0;
        var pending = await connection.ExecuteAsync(new CommandDefinition(Enqueue(check, skipped: false), parameters, tx, commandTimeout: 0, cancellationToken: ct));
        return new Enqueued(pending + skipped, skipped);
    }

    /// <summary>
    /// Atomically takes up to <paramref name="limit"/> rows that need work (pending, lease expired, deferred and due)
    /// and leases them to <paramref name="owner"/> (one run) until <paramref name="leaseUntil"/>. Two processes never
    /// claim the same row, and a run never claims back its own.
    /// </summary>
    public async Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(
        long editionId, long owner, int limit, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
        var ids = new List<long>();
        foreach (var claim in Claims)
        {
            ids.AddRange(await connection.QueryAsync<long>(new CommandDefinition(
                claim, new { editionId, owner, limit = limit - ids.Count, now, leaseUntil }, tx, cancellationToken: ct)));
        }
        if (ids.Count == 0)
        {
            return [];
        }
        // The rows are this claim's once committed: their recipients are read after, outside the write lock. Held through
        // that read (2-10 ms for 256 rows on a busy machine), the lock kept the outcome writer from committing, and the
        // connections stopped once their unsettled slots ran out. If the read fails, the leases bring the rows back.
        await tx.CommitAsync(ct);
        var rows = await connection.QueryAsync<ClaimedRow>(new CommandDefinition(
            ClaimedRecipients, new { ids = JsonSerializer.Serialize(ids) }, cancellationToken: ct));
        return rows.Select(r => new ClaimedDelivery(
            r.DeliveryId,
            (int)r.ResendCount,
            r.FirstAttemptAt,
            r.SubscriberId is { } id ? new Recipient(id, r.Email!, r.Name!, r.AllTopics == 1, ParseIds(r.TopicIds)) : null,
            r.Status)).ToList();
    }

    /// <summary>
    /// Opens the writer a send commits its outcomes through. It keeps one connection and its two statements,
    /// prepared once, for the whole run: a send commits hundreds of small groups a second, and opening a pooled
    /// connection and parsing the statements again for each cost more than the rows themselves. A second connection
    /// copies the log into the database behind it (<see cref="WalCheckpointer"/>), so that its commits stay short.
    /// </summary>
    public IOutcomeWriter OpenOutcomeWriter()
    {
        var connection = db.Open();
        WalCheckpointer? checkpointer = null;
        try
        {
            checkpointer = new WalCheckpointer(db);
            return new OutcomeWriter(connection, checkpointer);
        }
        catch
        {
            checkpointer?.Dispose();
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Commits groups of outcomes, each in one transaction: every row's new state and its history entry.</summary>
    /// <remarks>
    /// Synchronous, for the engine's writer thread: SQLite has no asynchronous I/O, and a writer on the thread pool
    /// woke a pool thread for every commit.
    /// </remarks>
    public sealed class OutcomeWriter : IOutcomeWriter
    {
        readonly SqliteConnection _connection;
        readonly RawStatement _begin;
        readonly RawStatement _commit;
        readonly RawStatement _rollback;
        readonly Statement _update;
        readonly Statement _insert;
        readonly WalCheckpointer _checkpointer;

        internal OutcomeWriter(SqliteConnection connection, WalCheckpointer checkpointer)
        {
            _connection = connection;
            _checkpointer = checkpointer;
            // IMMEDIATE: the write lock is taken (or waited for, up to the busy time-out) before the first row.
            _begin = new RawStatement(connection, "BEGIN IMMEDIATE");
            _commit = new RawStatement(connection, "COMMIT");
            _rollback = new RawStatement(connection, "ROLLBACK");
            _update = new Statement(connection, RecordOutcome);
            _insert = new Statement(connection, RecordAttempt);
        }

        public void Record(IReadOnlyCollection<DeliveryOutcome> outcomes)
        {
            if (outcomes.Count == 0)
            {
                return;
            }
            _begin.Execute();
            try
            {
                foreach (var o in outcomes)
                {
                    foreach (var earlier in o.Earlier ?? [])
                    {
                        _insert.Run(earlier);
                    }
                    _update.Run(o);
                    _insert.Run(o);
                }
                _commit.Execute();
                _checkpointer.Committed();
            }
            catch when (!_connection.Handle!.IsInvalid && raw.sqlite3_get_autocommit(_connection.Handle) == 0)
            {
                // Nothing half-written: the group's rows stay 'sending' and come back after their lease.
                _rollback.Execute();
                throw;
            }
        }

        public void Dispose()
        {
            _checkpointer.Dispose();
            foreach (var statement in new IDisposable[] { _begin, _commit, _rollback, _update, _insert })
            {
                statement.Dispose();
            }
            _connection.Dispose();
        }

        /// <summary>One of the two statements, with the positions of its parameters (each has a subset of them).</summary>
        sealed class Statement : IDisposable
        {
            readonly RawStatement _statement;
            readonly int _id, _resendCount, _state, _at, _next, _error, _code, _enhanced, _reply, _messageId;

            public Statement(SqliteConnection connection, string sql)
            {
                _statement = new RawStatement(connection, sql);
                _id = _statement.IndexOf("@id");
                _resendCount = _statement.IndexOf("@resendCount");
                _state = _statement.IndexOf("@state");
                _at = _statement.IndexOf("@at");
                _next = _statement.IndexOf("@next");
                _error = _statement.IndexOf("@error");
                _code = _statement.IndexOf("@code");
                _enhanced = _statement.IndexOf("@enhanced");
                _reply = _statement.IndexOf("@reply");
                _messageId = _statement.IndexOf("@messageId");
            }

            public void Run(DeliveryOutcome o)
            {
                Bind(_id, o.DeliveryId);
                Bind(_resendCount, o.ResendCount);
                Bind(_state, o.State);
                Bind(_at, o.At);
                Bind(_next, o.NextAttemptAt);
                Bind(_error, o.Error);
                Bind(_code, o.SmtpCode);
                Bind(_enhanced, o.EnhancedStatus);
                Bind(_reply, o.Reply);
                Bind(_messageId, o.MessageId);
                _statement.Execute();
            }

            // A parameter the statement does not have (position 0) is skipped.
            void Bind(int index, long? value)
            {
                if (index > 0)
                {
                    _statement.Bind(index, value);
                }
            }

            void Bind(int index, string? value)
            {
                if (index > 0)
                {
                    _statement.Bind(index, value);
                }
            }

            void Bind(int index, DateTimeOffset? value)
            {
                if (index > 0)
                {
                    _statement.Bind(index, value);
                }
            }

            public void Dispose() => _statement.Dispose();
        }
    }

    /// <summary>Gives claimed rows that were never attempted back to the queue (a graceful stop).</summary>
    public async Task ReleaseAsync(IReadOnlyCollection<long> deliveryIds, DateTimeOffset now, CancellationToken ct = default)
    {
        if (deliveryIds.Count == 0)
        {
            return;
        }
        await using var connection = await db.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            Release, new { ids = JsonSerializer.Serialize(deliveryIds), now }, cancellationToken: ct));
    }

    /// <summary>
    /// Streams the eligible subscribers who have no finished row for the edition (what a send would still do),
    /// one at a time: a million subscribers never sit in memory together.
    /// </summary>
    public async IAsyncEnumerable<Recipient> StreamEligibleAsync(long editionId, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var connection = await OpenWithFunctionsAsync(ct);
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
            EligibleNotDone, new { editionId }, commandTimeout: 0, cancellationToken: ct));
        while (await reader.ReadAsync(ct))
        {
            yield return RecipientRow(reader);
        }
    }

    static Recipient RecipientRow(IDataReader reader) => new(
        reader.GetInt64(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetInt64(4) == 1,
        ParseIds(reader.IsDBNull(5) ? null : reader.GetString(5)));

    /// <summary>Topic ids from group_concat's "3,1,7" (null or "" for none), sorted.</summary>
    internal static long[] ParseIds(string? csv) =>
        string.IsNullOrEmpty(csv) ? [] : csv.Split(',').Select(s => long.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).Order().ToArray();

    /// <summary>
    /// A connection with suppression_hash(email), the subscribers feature's key of suppressions.email_hash, so suppressed addresses are filtered inside the one enqueue statement.
    /// </summary>
    async Task<SqliteConnection> OpenWithFunctionsAsync(CancellationToken ct)
    {
        var connection = await db.OpenAsync(ct);
        connection.CreateFunction("suppression_hash", (string email) => SubscriberStore.SuppressionHash(email), isDeterministic: true);
        return connection;
    }
}
