namespace PprnetNewsletter.Subscribers;

/// <summary>
/// The subscriber a link token was issued to, if they are still here: what every page behind a link asks.
/// A current (v2) token names its subscriber for good, because ids are never reused. A legacy (v1) token, signed
/// before that, opens its subscriber only when migration 0008 found that their id cannot have belonged to anyone
/// before them (subscribers.legacy_links); otherwise the same token string may have gone to a person since
/// deleted, and it opens nothing. The links of a deleted or erased subscriber open nothing, whatever their format.
/// </summary>
public sealed class SubscriberLinks(LinkTokens tokens, ISubscriberStore subscribers)
{
    /// <summary>The id of the existing subscriber <paramref name="token"/> was issued to, or null.</summary>
    public async Task<long?> ResolveAsync(string? token, LinkPurpose purpose, CancellationToken ct = default)
    {
        if (!tokens.TryVerify(token, purpose, out var id, out var format))
        {
            return null;
        }
        var accepted = format == LinkTokenFormat.Current
            ? await subscribers.GetAsync(id, ct) is not null
            : await subscribers.AcceptsLegacyLinksAsync(id, ct);
        return accepted ? id : null;
    }

    /// <summary>The existing subscriber <paramref name="token"/> was issued to, or null.</summary>
    public async Task<Subscriber?> FindAsync(string? token, LinkPurpose purpose, CancellationToken ct = default) =>
        await ResolveAsync(token, purpose, ct) is { } id ? await subscribers.GetAsync(id, ct) : null;
}
