using System.Buffers.Text;
using System.Security.Cryptography;

namespace PprnetNewsletter.Subscribers;

/// <summary>A freshly issued double opt-in token: put <see cref="Token"/> in the confirmation link.</summary>
public sealed record IssuedConfirmation(string Token, DateTimeOffset ExpiresAt);

/// <summary>What redeeming a token did: confirmed <see cref="Subscriber"/> when <see cref="Status"/> is Valid.</summary>
public sealed record ConfirmationResult(ConfirmationStatus Status, Subscriber? Subscriber);

/// <summary>
/// Double opt-in tokens: 32 random bytes sent in the confirmation link (URL-safe base64); only their SHA-256 is
/// stored, so a copy of the database cannot confirm anyone. A token expires after <see cref="Lifetime"/> and
/// works once.
/// </summary>
public sealed class ConfirmationTokens(ISubscriberStore store, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(48);

    /// <summary>How long spent or expired tokens are kept (to tell "expired" from "unknown") before they are purged.</summary>
    static readonly TimeSpan KeepExpiredFor = TimeSpan.FromDays(30);

    const int TokenBytes = 32;

    /// <summary>A new token for the subscriber, or null when there is no such subscriber.</summary>
    public async Task<IssuedConfirmation?> IssueAsync(long subscriberId, CancellationToken ct = default)
    {
        var bytes = RandomNumberGenerator.GetBytes(TokenBytes);
        var expiresAt = time.GetUtcNow() + Lifetime;
        return await store.AddConfirmationTokenAsync(subscriberId, SHA256.HashData(bytes), expiresAt, KeepExpiredFor, ct)
            ? new IssuedConfirmation(Base64Url.EncodeToString(bytes), expiresAt)
            : null;
    }

    /// <summary>Whether the token would confirm, without spending it (for the page that shows the confirm button).</summary>
    public async Task<ConfirmationStatus> CheckAsync(string? token, CancellationToken ct = default) =>
        TryHash(token, out var hash) ? await store.CheckConfirmationTokenAsync(hash, ct) : ConfirmationStatus.Unknown;

    /// <summary>
    /// Spends the token and confirms its subscriber, recording 'confirmed' with <paramref name="context"/>
    /// (source 'form', IP address, user agent).
    /// </summary>
    public async Task<ConfirmationResult> RedeemAsync(string? token, ConsentContext context, CancellationToken ct = default)
    {
        if (!TryHash(token, out var hash))
        {
            return new ConfirmationResult(ConfirmationStatus.Unknown, null);
        }
        var (status, subscriber) = await store.RedeemConfirmationTokenAsync(hash, context, ct);
        return new ConfirmationResult(status, subscriber);
    }

    /// <summary>
    /// Only the exact encoding that was issued is accepted: base64 has spare bits in its last character, and a
    /// token that decodes to the same bytes from a different string must not count as the same token.
    /// </summary>
    static bool TryHash(string? token, out byte[] hash)
    {
        hash = [];
        if (token is null || token.Length != Base64Url.GetEncodedLength(TokenBytes) || !Base64Url.IsValid(token))
        {
            return false;
        }
        var bytes = Base64Url.DecodeFromChars(token);
        if (bytes.Length != TokenBytes || Base64Url.EncodeToString(bytes) != token)
        {
            return false;
        }
        hash = SHA256.HashData(bytes);
        return true;
    }
}
