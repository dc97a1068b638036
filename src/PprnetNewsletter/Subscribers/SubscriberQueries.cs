namespace PprnetNewsletter.Subscribers;

/// <summary>
/// Every SQL statement of the subscribers feature, named. Timestamps are parameters (from TimeProvider), never
/// the database's clock. group_concat is SQLite's spelling of PostgreSQL's string_agg.
/// The writes are set-based: <c>@rows</c> and <c>@events</c> are JSON arrays (read with json_each), one element per
/// subscriber or event, so one statement writes one row or a whole CSV import alike. Rows carry camelCase fields:
/// id, email, name, status, allTopics, confirmed, topicIds; events: subscriberId, event, detail.
/// </summary>
static class SubscriberQueries
{
    /// <summary>Columns in the order of <see cref="SubscriberStore"/>'s row record.</summary>
    public const string Select = """
        SELECT s.id, s.email, s.name, s.status, s.all_topics AS AllTopics, s.created_at AS CreatedAt,
               s.confirmed_at AS ConfirmedAt, s.updated_at AS UpdatedAt,
               coalesce((SELECT group_concat(t.topic_id) FROM subscriber_topics t WHERE t.subscriber_id = s.id), '') AS TopicIds
        FROM subscribers s
        """;

    public const string ById = $"{Select} WHERE s.id = @id";

    public const string ByEmail = $"{Select} WHERE lower(s.email) = lower(@email)";

    /// <summary>The subscribers with any of <c>@emails</c> (a JSON array of addresses), any case.</summary>
    public const string ByEmails = $"{Select} WHERE lower(s.email) IN (SELECT lower(value) FROM json_each(@emails))";

    /// <summary>The filter shared by the page and the count: status, then a substring of the address or name.</summary>
    const string Filter = """
        WHERE (@status IS NULL OR s.status = @status)
          AND (@search IS NULL OR instr(lower(s.email), @search) > 0 OR instr(lower(s.name), @search) > 0)
        """;

    public const string Page = $"{Select} {Filter} ORDER BY s.id LIMIT @limit OFFSET @offset";

    public const string Count = $"SELECT count(*) FROM subscribers s {Filter}";

    public const string All = $"{Select} {Filter} ORDER BY s.id";

    /// <summary>
    /// Adds the subscribers of <c>@rows</c> (their ids ignored); the new ids with their addresses. Ids are taken above
    /// the highest ever given (subscriber_id_watermark), never SQLite's max(id) + 1, so no id is handed out twice.
    /// </summary>
    public const string Insert = """
        INSERT INTO subscribers (id, email, name, status, all_topics, created_at, confirmed_at, updated_at)
        SELECT (SELECT high FROM subscriber_id_watermark) + 1 + r.key, r.value ->> 'email', r.value ->> 'name', r.value ->> 'status', r.value ->> 'allTopics', @now,
               CASE WHEN r.value ->> 'confirmed' THEN @now END, @now
        FROM json_each(@rows) r
        ORDER BY r.key
        RETURNING id AS Id, email AS Email
        """;

    /// <summary>The names and topic modes of <c>@rows</c>, by id; status and timestamps of consent stay.</summary>
    public const string UpdateProfiles = """
        UPDATE subscribers SET name = r.value ->> 'name', all_topics = r.value ->> 'allTopics', updated_at = @now
        FROM json_each(@rows) r
        WHERE subscribers.id = r.value ->> 'id'
        """;

    public const string UpdateStatus = """
        UPDATE subscribers SET status = @status, confirmed_at = coalesce(@confirmedAt, confirmed_at), updated_at = @now
        WHERE id = @id
        """;

    public const string ClearTopics = """
        DELETE FROM subscriber_topics WHERE subscriber_id IN (SELECT value ->> 'id' FROM json_each(@rows))
        """;

    public const string AddTopics = """
        INSERT INTO subscriber_topics (subscriber_id, topic_id)
        SELECT r.value ->> 'id', t.value FROM json_each(@rows) r, json_each(r.value -> 'topicIds') t
        """;

    /// <summary>Appends <c>@events</c> in order, all from the same source and client.</summary>
    public const string AppendEvents = """
        INSERT INTO consent_events (subscriber_id, event, source, occurred_at, ip, user_agent, consent_version, detail)
        SELECT e.value ->> 'subscriberId', e.value ->> 'event', @source, @now, @ip, @userAgent, @consentVersion, e.value ->> 'detail'
        FROM json_each(@events) e
        ORDER BY e.key
        """;

    public const string EventsOf = """
        SELECT event, source, occurred_at AS OccurredAt, ip, user_agent AS UserAgent, consent_version AS ConsentVersion, detail
        FROM consent_events WHERE subscriber_id = @id ORDER BY id
        """;

    /// <summary>
    /// Erasure: the consent events stay (they prove consent was asked and withdrawn) but lose what identifies the
    /// person — the triggers allow exactly these columns to be cleared. SMTP replies often quote the address.
    /// Deleting the subscriber then cascades to topics and tokens, and detaches events and deliveries.
    /// </summary>
    public const string Erase = """
        UPDATE consent_events SET ip = NULL, user_agent = NULL WHERE subscriber_id = @id;
        UPDATE delivery_attempts SET smtp_reply = NULL, error = NULL
        WHERE delivery_id IN (SELECT id FROM deliveries WHERE subscriber_id = @id);
        UPDATE deliveries SET smtp_reply = NULL, last_error = NULL WHERE subscriber_id = @id;
        DELETE FROM mail_queue WHERE recipient = (SELECT email FROM subscribers WHERE id = @id);
        DELETE FROM subscribers WHERE id = @id;
        """;

    /// <summary>Whether links signed before ids were made unique (token format v1) may open this subscriber.</summary>
    public const string AcceptsLegacyLinks = "SELECT count(*) FROM subscribers WHERE id = @id AND legacy_links = 1";

    public const string Suppress = """
        INSERT INTO suppressions (email_hash, reason, created_at) VALUES (@hash, @reason, @now)
        ON CONFLICT (email_hash) DO NOTHING
        """;

    public const string IsSuppressed = "SELECT count(*) FROM suppressions WHERE email_hash = @hash";

    public const string SuppressionHashes = "SELECT email_hash FROM suppressions";

    public const string LiftSuppression = "DELETE FROM suppressions WHERE email_hash = @hash";

    public const string InsertToken = """
        INSERT INTO confirmation_tokens (token_hash, subscriber_id, created_at, expires_at)
        VALUES (@hash, @id, @now, @expiresAt)
        """;

    public const string TokenByHash = """
        SELECT subscriber_id AS SubscriberId, expires_at AS ExpiresAt, used_at AS UsedAt
        FROM confirmation_tokens WHERE token_hash = @hash
        """;

    /// <summary>Confirming spends every open token of the subscriber, not only the one used.</summary>
    public const string SpendTokens = """
        UPDATE confirmation_tokens SET used_at = @now WHERE subscriber_id = @id AND used_at IS NULL
        """;

    /// <summary>Expired tokens are useless; those long past their expiry are tidied away when a new one is issued.</summary>
    public const string PurgeTokens = "DELETE FROM confirmation_tokens WHERE expires_at < @before";
}
