using System.Data.Common;
using System.Runtime.CompilerServices;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// The per-recipient delivery ledger in PostgreSQL: the engine's <see cref="IDeliveryStore"/> for a database that
/// several instances and command-line runs share (its run records: <see cref="PgEditionRuns"/>). Claims lock the rows
/// they take and skip rows another claim holds (SKIP LOCKED), so claimers in any number of processes get disjoint
/// rows without waiting for each other; each group of outcomes is one statement.
/// </summary>
public sealed class PgDeliveryStore(PgDb db) : DeliveryStoreBase, IDeliveryStore
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);

    // The whole list in one statement. Subscribers who chose none of the edition's topics (nor all topics) go in
    // already skipped when @skipWithoutMatch (the digests feature's rule, applied in the same pass; the subscribers who
    // match are found once, as a set joined to the list: a subplan per subscriber (`s.id IN (...)`) is hashed only while
    // the planner believes it fits work_mem, and once the tables were analysed at 100,000 subscribers it did not, and
    // scanned the topic choices once per subscriber). The suppression key (the subscribers feature's
    // SuppressionHash: SHA-256, in hex, of the lower-cased address) is computed only when there are suppressions at all.
    // A first enqueue needs no conflict check: the edition was a draft a moment ago, in this transaction, and a draft
    // has no rows; a later one skips subscribers who have a row already (the unique (edition_id, subscriber_id)).
    // The migration 0020 explains why deliveries has no foreign keys to check per row.
    static string Enqueue(bool checkSuppressions, bool first) => $"""
        WITH edition_topics AS (
            SELECT DISTINCT m.topic_id FROM summary_topics m JOIN summaries e ON e.id = m.summary_id WHERE e.edition_id = @editionId
        ), matching AS (
            SELECT DISTINCT t.subscriber_id FROM subscriber_topics t WHERE t.topic_id IN (SELECT topic_id FROM edition_topics)
        ), added AS (
            INSERT INTO deliveries (edition_id, subscriber_id, state, last_error, created_at, updated_at)
            SELECT @editionId, s.id, CASE WHEN m.matched THEN 'pending' ELSE 'skipped' END,
                   CASE WHEN m.matched THEN NULL ELSE @noMatch END, @now, @now
            FROM subscribers s
            LEFT JOIN matching x ON x.subscriber_id = s.id
            CROSS JOIN LATERAL (SELECT NOT @skipWithoutMatch OR s.all_topics OR x.subscriber_id IS NOT NULL AS matched) m
            WHERE s.status = 'confirmed'
              AND (@confirmedAfter::timestamptz IS NULL OR s.confirmed_at > @confirmedAfter::timestamptz)
              {(checkSuppressions ? "AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email_hash = encode(sha256(convert_to(lower(btrim(s.email)), 'UTF8')), 'hex'))" : "")}
            ORDER BY s.id
            {(first ? "" : "ON CONFLICT (edition_id, subscriber_id) DO NOTHING")}
            RETURNING state
        )
        SELECT count(*) AS Rows, count(*) FILTER (WHERE state = 'skipped') AS Skipped FROM added
        """;

    const string AnySuppression = "SELECT EXISTS (SELECT 1 FROM suppressions)";

    // For this transaction only. The subscribers who match an edition are gathered in a hash: at 1,000,000 subscribers
    // it needs ~90 MB, and under the default work_mem (4 MB) it spilled to disk in 41 batches and sorted on disk. Just
    // in time compilation of a statement that runs once a month costs more than it saves.
    const string EnqueueSettings = "SET LOCAL work_mem = '128MB'; SET LOCAL jit = off";

    // Expired leases of other runs and due deferred rows first, then pending rows in order: three statements, each on
    // its own index. FOR UPDATE SKIP LOCKED: a row another claim is taking at this moment is left to it, never waited
    // for nor taken twice; a row it took is re-checked against the WHERE before this claim may lock it.
    static readonly string[] Claims = [.. new[]
    {
        "state = 'sending' AND lease_until < @now AND lease_owner IS DISTINCT FROM @owner AND edition_id = @editionId",
        "state = 'deferred' AND next_attempt_at <= @now AND edition_id = @editionId",
        "edition_id = @editionId AND state = 'pending' ORDER BY id",
    }.Select(rows => $"""
        WITH claimed AS (
            UPDATE deliveries SET state = 'sending', lease_until = @leaseUntil, lease_owner = @owner, updated_at = @now
            WHERE id IN (SELECT id FROM deliveries WHERE {rows} LIMIT @limit FOR UPDATE SKIP LOCKED)
            RETURNING id, resend_count, first_attempt_at, subscriber_id
        )
        SELECT c.id AS DeliveryId, c.resend_count AS ResendCount, c.first_attempt_at AS FirstAttemptAt,
               s.id AS SubscriberId, s.email AS Email, s.name AS Name, s.status AS Status, s.all_topics AS AllTopics,
               ARRAY(SELECT t.topic_id FROM subscriber_topics t WHERE t.subscriber_id = s.id ORDER BY t.topic_id) AS TopicIds
        FROM claimed c LEFT JOIN subscribers s ON s.id = c.subscriber_id
        ORDER BY c.id
        """)];

    // A group of outcomes in one statement (so one transaction): each row's new state, and the history of every attempt,
    // earlier failed attempts of the same run included (history_only), in the order they happened.
    const string RecordOutcomes = """
        WITH o AS (
            SELECT * FROM unnest(@id::bigint[], @resendCount::integer[], @state::text[], @at::timestamptz[], @next::timestamptz[],
                                 @code::integer[], @enhanced::text[], @reply::text[], @error::text[], @messageId::text[], @historyOnly::boolean[])
                          WITH ORDINALITY
                          AS o(id, resend_count, state, at, next, code, enhanced, reply, error, message_id, history_only, position)
        ), settled AS (
            UPDATE deliveries d
            SET state = o.state, attempts = d.attempts + 1, lease_until = NULL, lease_owner = NULL, next_attempt_at = o.next,
                first_attempt_at = coalesce(d.first_attempt_at, o.at), last_error = o.error, smtp_code = o.code,
                enhanced_status = o.enhanced, smtp_reply = o.reply, message_id = coalesce(o.message_id, d.message_id),
                updated_at = o.at, sent_at = CASE WHEN o.state = 'sent' THEN o.at ELSE d.sent_at END
            FROM o WHERE d.id = o.id AND NOT o.history_only
        )
        INSERT INTO delivery_attempts (delivery_id, resend_count, attempted_at, outcome, smtp_code, enhanced_status, smtp_reply,
                                       error, message_id)
        SELECT id, resend_count, at, state, code, enhanced, reply, error, message_id FROM o ORDER BY position
        """;

    const string Release = """
        UPDATE deliveries SET state = 'pending', lease_until = NULL, lease_owner = NULL, updated_at = @now
        WHERE id = ANY(@ids) AND state = 'sending'
        """;

    const string EligibleNotDone = """
        SELECT s.id, s.email, s.name, s.all_topics,
               ARRAY(SELECT t.topic_id FROM subscriber_topics t WHERE t.subscriber_id = s.id ORDER BY t.topic_id) AS topic_ids
        FROM subscribers s
        WHERE s.status = 'confirmed'
          AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email_hash = encode(sha256(convert_to(lower(btrim(s.email)), 'UTF8')), 'hex'))
          AND NOT EXISTS (SELECT 1 FROM deliveries d
                          WHERE d.edition_id = @editionId AND d.subscriber_id = s.id AND d.state IN ('sent', 'skipped', 'failed'))
        ORDER BY s.id
        """;

    sealed class ClaimedRow
    {
        public long DeliveryId { get; init; }

        public int ResendCount { get; init; }

        public DateTimeOffset? FirstAttemptAt { get; init; }

        public long? SubscriberId { get; init; }

        public string? Email { get; init; }

        public string? Name { get; init; }

        public string? Status { get; init; }

        public bool? AllTopics { get; init; }

        public long[]? TopicIds { get; init; }
    }

    /// <summary>
    /// Moves the edition from draft to sending and enqueues every eligible subscriber, in one transaction. Null when the
    /// edition was not a draft: of two instances starting it at once, the second waits for the first's row lock, then
    /// finds it 'sending'.
    /// </summary>
    public async Task<Enqueued?> StartAsync(long editionId, DateTimeOffset now, bool skipWithoutMatch, CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (await connection.ExecuteAsync(new CommandDefinition(StartEdition, new { editionId, now }, tx, cancellationToken: ct)) == 0)
        {
            return null;
        }
        var rows = await EnqueueAsync(connection, tx, editionId, null, now, skipWithoutMatch, first: true, ct);
        await tx.CommitAsync(ct);
        return rows;
    }

    public async Task<Enqueued> EnqueueConfirmedAfterAsync(long editionId, DateTimeOffset confirmedAfter, DateTimeOffset now, bool skipWithoutMatch,
        CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var rows = await EnqueueAsync(connection, tx, editionId, confirmedAfter, now, skipWithoutMatch, first: false, ct);
        await tx.CommitAsync(ct);
        return rows;
    }

    static async Task<Enqueued> EnqueueAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long editionId, DateTimeOffset? confirmedAfter,
        DateTimeOffset now, bool skipWithoutMatch, bool first, CancellationToken ct)
    {
        await connection.ExecuteAsync(new CommandDefinition(EnqueueSettings, transaction: tx, cancellationToken: ct));
        var check = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(AnySuppression, transaction: tx, cancellationToken: ct));
        var (rows, skipped) = await connection.QuerySingleAsync<(long, long)>(new CommandDefinition(Enqueue(check, first),
            new { editionId, now, confirmedAfter, skipWithoutMatch, noMatch = DeliveryReason.NoMatchingTopics }, tx, commandTimeout: 0,
            cancellationToken: ct));
        return new Enqueued((int)rows, (int)skipped);
    }

    /// <summary>
    /// Takes up to <paramref name="limit"/> rows that need work and leases them to <paramref name="owner"/> until
    /// <paramref name="leaseUntil"/>, with their recipients as they are now. Concurrent claims, in this process or any
    /// other, get disjoint rows; a run never claims back its own.
    /// </summary>
    public async Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(
        long editionId, long owner, int limit, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        var claimed = new List<ClaimedDelivery>();
        foreach (var claim in Claims)
        {
            // Each statement commits on its own: a crash between two leaves rows leased, and their lease brings them back.
            var rows = await connection.QueryAsync<ClaimedRow>(new CommandDefinition(
                claim, new { editionId, owner, limit = limit - claimed.Count, now, leaseUntil }, cancellationToken: ct));
            claimed.AddRange(rows.Select(r => new ClaimedDelivery(
                r.DeliveryId,
                r.ResendCount,
                r.FirstAttemptAt,
                r.SubscriberId is { } id ? new Recipient(id, r.Email!, r.Name!, r.AllTopics == true, r.TopicIds ?? []) : null,
                r.Status)));
            if (claimed.Count >= limit)
            {
                break;
            }
        }
        return claimed;
    }

    /// <summary>The writer a send commits its outcomes through: one connection and one prepared statement for the run.</summary>
    public IOutcomeWriter OpenOutcomeWriter()
    {
        // The engine calls this on its writer's own thread, where blocking is what the thread is for.
        var connection = db.OpenAsync().GetAwaiter().GetResult();
        try
        {
            return new OutcomeWriter(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Commits each group of outcomes as one statement: every row's new state and its history entries.</summary>
    sealed class OutcomeWriter : IOutcomeWriter
    {
        readonly NpgsqlConnection _connection;
        readonly NpgsqlCommand _command;

        public OutcomeWriter(NpgsqlConnection connection)
        {
            _connection = connection;
            _command = new NpgsqlCommand(RecordOutcomes, connection);
            Add("id", NpgsqlDbType.Bigint);
            Add("resendCount", NpgsqlDbType.Integer);
            Add("state", NpgsqlDbType.Text);
            Add("at", NpgsqlDbType.TimestampTz);
            Add("next", NpgsqlDbType.TimestampTz);
            Add("code", NpgsqlDbType.Integer);
            Add("enhanced", NpgsqlDbType.Text);
            Add("reply", NpgsqlDbType.Text);
            Add("error", NpgsqlDbType.Text);
            Add("messageId", NpgsqlDbType.Text);
            Add("historyOnly", NpgsqlDbType.Boolean);
            _command.Prepare();
        }

        void Add(string name, NpgsqlDbType type) => _command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | type));

        public void Record(IReadOnlyCollection<DeliveryOutcome> outcomes)
        {
            if (outcomes.Count == 0)
            {
                return;
            }
            var all = outcomes.SelectMany(o => (o.Earlier ?? []).Select(e => (Outcome: e, HistoryOnly: true)).Append((Outcome: o, HistoryOnly: false))).ToList();
            var p = _command.Parameters;
            p["id"].Value = all.Select(a => a.Outcome.DeliveryId).ToArray();
            p["resendCount"].Value = all.Select(a => a.Outcome.ResendCount).ToArray();
            p["state"].Value = all.Select(a => a.Outcome.State).ToArray();
            p["at"].Value = all.Select(a => a.Outcome.At.ToUniversalTime()).ToArray();
            p["next"].Value = all.Select(a => a.Outcome.NextAttemptAt?.ToUniversalTime()).ToArray();
            p["code"].Value = all.Select(a => a.Outcome.SmtpCode).ToArray();
            p["enhanced"].Value = all.Select(a => a.Outcome.EnhancedStatus).ToArray();
            p["reply"].Value = all.Select(a => a.Outcome.Reply).ToArray();
            p["error"].Value = all.Select(a => a.Outcome.Error).ToArray();
            p["messageId"].Value = all.Select(a => a.Outcome.MessageId).ToArray();
            p["historyOnly"].Value = all.Select(a => a.HistoryOnly).ToArray();
            // One statement is one transaction: the group is written whole or not at all (its rows stay 'sending' and
            // come back after their lease).
            _command.ExecuteNonQuery();
        }

        public void Dispose()
        {
            _command.Dispose();
            _connection.Dispose();
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
        await connection.ExecuteAsync(new CommandDefinition(Release, new { ids = deliveryIds.ToArray(), now }, cancellationToken: ct));
    }

    /// <summary>The eligible subscribers who have no finished row for the edition, streamed one at a time.</summary>
    public async IAsyncEnumerable<Recipient> StreamEligibleAsync(long editionId, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = new NpgsqlCommand(EligibleNotDone, connection) { CommandTimeout = 0 };
        command.Parameters.AddWithValue("editionId", editionId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            yield return new Recipient(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetBoolean(3),
                reader.GetFieldValue<long[]>(4));
        }
    }
}
