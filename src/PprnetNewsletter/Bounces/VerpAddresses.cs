using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Bounces;

/// <summary>
/// Variable envelope return paths: <c>bounces+SUBSCRIBER.EDITION.MAC@domain</c>, where MAC is the first 10 bytes (hex)
/// of an HMAC-SHA256 over "verp.SUBSCRIBER.EDITION" with the link-token key. A bounce to that address names the
/// delivery it is about however the remote server words it, and nobody can make one that names another delivery.
/// Lower-case hex because some servers lower-case local parts; no key id, so the local part stays well under 64
/// octets: every key of the ring is tried instead (rings hold a few keys).
/// </summary>
public sealed class VerpAddresses(IOptions<BouncesOptions> options, TokenKeys keys)
{
    const int MacBytes = 10;

    readonly string? _local = Part(options.Value, local: true);
    readonly string? _domain = Part(options.Value, local: false);

    /// <summary>The local part or the domain of Bounces:Address; null when it is not set.</summary>
    static string? Part(BouncesOptions options, bool local)
    {
        if (!options.VerpEnabled)
        {
            return null;
        }
        var address = options.Address!.Trim();
        var at = address.LastIndexOf('@');
        return local ? address[..at] : address[(at + 1)..];
    }

    /// <summary>The envelope sender of <paramref name="subscriberId"/>'s copy of the edition; null when Bounces:Address is not set.</summary>
    public MailboxAddress? For(long subscriberId, long editionId)
    {
        if (_local is null)
        {
            return null;
        }
        var ids = Ids(subscriberId, editionId);
        return new MailboxAddress("", $"{_local}+{ids}.{Mac(keys.Ring.Current, ids)}@{_domain}");
    }

    /// <summary>The subscriber and edition named by a genuine VERP address (any case); false for anything else.</summary>
    public bool TryRead(string? address, out long subscriberId, out long editionId)
    {
        subscriberId = 0;
        editionId = 0;
        if (_local is null || address is null || address.Length > 254)
        {
            return false;
        }
        var at = address.LastIndexOf('@');
        var plus = address.IndexOf('+', StringComparison.Ordinal);
        if (at < 0 || plus < 0 || plus > at
            || !address[..plus].Equals(_local, StringComparison.OrdinalIgnoreCase)
            || !address[(at + 1)..].Equals(_domain, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var parts = address[(plus + 1)..at].ToLowerInvariant().Split('.');
        if (parts is not [var subscriber, var edition, var mac]
            || !long.TryParse(subscriber, NumberStyles.None, CultureInfo.InvariantCulture, out var s)
            || !long.TryParse(edition, NumberStyles.None, CultureInfo.InvariantCulture, out var e))
        {
            return false;
        }
        var ids = Ids(s, e);
        var presented = Encoding.ASCII.GetBytes(mac);
        foreach (var key in keys.Ring.Keys.Values)
        {
            if (CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Mac(key, ids)), presented))
            {
                subscriberId = s;
                editionId = e;
                return true;
            }
        }
        return false;
    }

    static string Ids(long subscriberId, long editionId) =>
        string.Create(CultureInfo.InvariantCulture, $"{subscriberId}.{editionId}");

    static string Mac(byte[] key, string ids) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes("verp." + ids)).AsSpan(0, MacBytes));
}
