namespace PprnetNewsletter.Digests;

/// <summary>What a signed link lets its bearer do.</summary>
public enum LinkPurpose
{
    Unsubscribe,
    Preferences,
}

/// <summary>
/// Signs the subscriber id and purpose into the URL-safe token carried by unsubscribe and preference links.
/// The subscribers feature owns the keys and the verification; digests only need to mint tokens.
/// </summary>
public interface ILinkTokens
{
    string Create(long subscriberId, LinkPurpose purpose);
}

/// <summary>The digests' tokens are the subscribers' signed link tokens: one key ring, one verifier.</summary>
public sealed class SubscriberLinkTokens(Subscribers.LinkTokens tokens) : ILinkTokens
{
    public string Create(long subscriberId, LinkPurpose purpose) => tokens.Create(subscriberId, purpose switch
    {
        LinkPurpose.Unsubscribe => Subscribers.LinkPurpose.Unsubscribe,
        LinkPurpose.Preferences => Subscribers.LinkPurpose.Preferences,
        _ => throw new ArgumentOutOfRangeException(nameof(purpose)),
    });
}
