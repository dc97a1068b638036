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
