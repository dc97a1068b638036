namespace PprnetNewsletter.Subscribers;

/// <summary>
/// The statements of <see cref="SubscriberStore"/> in one engine's SQL. Timestamps are parameters (from
/// TimeProvider), never the database's clock. The writes are set-based: <c>@rows</c> and <c>@events</c> are JSON
/// arrays, one element per subscriber or event, so one statement writes one row or a whole CSV import alike. Rows
/// carry camelCase fields: id, email, name, status, allTopics, confirmed, topicIds; events: subscriberId, event, detail.
/// Reads return the columns of the store's row record, in its order: id, email, name, status, AllTopics (0 or 1),
/// CreatedAt, ConfirmedAt, UpdatedAt, TopicIds (the topic ids as text, "3,1,7", "" for none).
/// Statements written the same in both engines have that text as their default.
/// </summary>
public sealed class SubscriberSql
{
    public required string ById { get; init; }

    public required string ByEmail { get; init; }

    /// <summary>Appended to <see cref="ById"/> or <see cref="ByEmail"/> in a transaction that writes what it read: locks the row.</summary>
    public required string ForUpdate { get; init; }

    /// <summary>Run first in a transaction that may add subscribers, to make such transactions take turns; "" when the engine needs nothing.</summary>
    public required string LockAdditions { get; init; }

    /// <summary>The subscribers with any of <c>@emails</c> (a JSON array of addresses), any case.</summary>
    public required string ByEmails { get; init; }

    /// <summary>A page of the subscribers matching <c>@status</c> and <c>@search</c> (either may be null), in id order, <c>@limit</c> from <c>@offset</c>.</summary>
    public required string Page { get; init; }

    /// <summary>How many subscribers match <c>@status</c> and <c>@search</c>.</summary>
    public required string Count { get; init; }

    /// <summary>Every subscriber matching <c>@status</c> and <c>@search</c>, in id order.</summary>
    public required string All { get; init; }

    /// <summary>
    /// Adds the subscribers of <c>@rows</c> (their ids ignored); the new ids with their addresses (Id, Email). An id is
    /// never handed out twice, not even the id of the newest subscriber after they were deleted.
    /// </summary>
    public required string Insert { get; init; }

    /// <summary>The names and topic modes of <c>@rows</c>, by id; status and timestamps of consent stay.</summary>
    public required string UpdateProfiles { get; init; }

    public required string ClearTopics { get; init; }

    public required string AddTopics { get; init; }

    /// <summary>Appends <c>@events</c> in order, all from the same source and client.</summary>
    public required string AppendEvents { get; init; }

    /// <summary>Whether links signed before ids were made unique (token format v1) may open subscriber <c>@id</c> (a count, 0 or 1).</summary>
    public required string AcceptsLegacyLinks { get; init; }

    public string UpdateStatus { get; init; } = """
        UPDATE subscribers SET status = @status, confirmed_at = coalesce(@confirmedAt, confirmed_at), updated_at = @now
        WHERE id = @id
        """;

    public string EventsOf { get; init; } = """
        SELECT event, source, occurred_at AS OccurredAt, ip, user_agent AS UserAgent, consent_version AS ConsentVersion, detail
        FROM consent_events WHERE subscriber_id = @id ORDER BY id
        """;

    /// <summary>
    /// Erasure: the consent events stay (they prove consent was asked and withdrawn) but lose what identifies the
    /// person — the triggers allow exactly these columns to be cleared. SMTP replies often quote the address.
    /// Deleting the subscriber then cascades to topics and tokens, and detaches events and deliveries.
    /// </summary>
    public string Erase { get; init; } = """
        UPDATE consent_events SET ip = NULL, user_agent = NULL WHERE subscriber_id = @id;
        UPDATE delivery_attempts SET smtp_reply = NULL, error = NULL
        WHERE delivery_id IN (SELECT id FROM deliveries WHERE subscriber_id = @id);
        UPDATE deliveries SET smtp_reply = NULL, last_error = NULL WHERE subscriber_id = @id;
        DELETE FROM mail_queue WHERE recipient = (SELECT email FROM subscribers WHERE id = @id);
        DELETE FROM subscribers WHERE id = @id;
        """;

    public string Suppress { get; init; } = """
        INSERT INTO suppressions (email_hash, reason, created_at) VALUES (@hash, @reason, @now)
        ON CONFLICT (email_hash) DO NOTHING
        """;

    public string IsSuppressed { get; init; } = "SELECT count(*) FROM suppressions WHERE email_hash = @hash";

    public string SuppressionHashes { get; init; } = "SELECT email_hash FROM suppressions";

    public string LiftSuppression { get; init; } = "DELETE FROM suppressions WHERE email_hash = @hash";

    public string InsertToken { get; init; } = """
        INSERT INTO confirmation_tokens (token_hash, subscriber_id, created_at, expires_at)
        VALUES (@hash, @id, @now, @expiresAt)
        """;

    public string TokenByHash { get; init; } = """
        SELECT subscriber_id AS SubscriberId, expires_at AS ExpiresAt, used_at AS UsedAt
        FROM confirmation_tokens WHERE token_hash = @hash
        """;

    /// <summary>Confirming spends every open token of the subscriber, not only the one used.</summary>
    public string SpendTokens { get; init; } = """
        UPDATE confirmation_tokens SET used_at = @now WHERE subscriber_id = @id AND used_at IS NULL
        """;

    /// <summary>Expired tokens are useless; those long past their expiry are tidied away when a new one is issued.</summary>
    public string PurgeTokens { get; init; } = "DELETE FROM confirmation_tokens WHERE expires_at < @before";
}
