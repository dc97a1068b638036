using Dapper;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Subscribers;

/// <summary>Subscribers and their topic preferences. All of the subscribers feature's SQL lives here.</summary>
public sealed class SubscriberStore(Db db)
{
    const string SelectSubscriber = """
        SELECT id, email, name, status, all_topics AS AllTopics, created_at AS CreatedAt, confirmed_at AS ConfirmedAt
        FROM subscribers
        """;

    const string TopicIdsOf = "SELECT topic_id FROM subscriber_topics WHERE subscriber_id = @id ORDER BY topic_id";

    // Dapper maps rows by constructor: column order and types (SQLite integers are Int64) must match.
    sealed record Row(long Id, string Email, string Name, string Status, long AllTopics, DateTimeOffset CreatedAt, DateTimeOffset? ConfirmedAt);

    /// <summary>The subscriber with this address (any case), or null.</summary>
    public Task<Subscriber?> FindByEmailAsync(string email, CancellationToken ct = default) =>
        FindAsync($"{SelectSubscriber} WHERE lower(email) = lower(@key)", email.Trim(), ct);

    public Task<Subscriber?> GetAsync(long id, CancellationToken ct = default) =>
        FindAsync($"{SelectSubscriber} WHERE id = @key", id, ct);

    const string MarkBounced = """
        UPDATE subscribers SET status = 'bounced', updated_at = @now WHERE id = @id AND status <> 'bounced';
        INSERT INTO consent_events (subscriber_id, event, source, occurred_at, detail)
        SELECT @id, 'bounced', 'bounce', @now, @detail WHERE changes() = 1;
        """;

    /// <summary>
    /// The relay said the address does not exist: no more mail to it. Recorded in the consent ledger (source
    /// 'bounce') with the server's reply as detail. Does nothing if the subscriber is already bounced.
    /// </summary>
    public async Task MarkBouncedAsync(long id, string detail, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(MarkBounced, new { id, detail, now }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    async Task<Subscriber?> FindAsync(string sql, object key, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(sql, new { key }, cancellationToken: ct));
        if (row is null)
        {
            return null;
        }
        var topicIds = (await connection.QueryAsync<long>(new CommandDefinition(TopicIdsOf, new { id = row.Id }, cancellationToken: ct))).ToList();
        return new Subscriber(row.Id, row.Email, row.Name, row.Status, row.AllTopics != 0, topicIds, row.CreatedAt, row.ConfirmedAt);
    }
}
