using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace PprnetNewsletter.Subscribers;

/// <summary>
/// Keys for the HMAC of unsubscribe and preference links. With none configured, one is generated once into
/// token-keys.json next to the SQLite database, or into the token_keys table of a PostgreSQL database. To rotate: add a new key id, make it current, and keep the old one
/// for as long as links signed with it must work (unsubscribe links: forever, in practice).
/// </summary>
public sealed partial class TokenOptions : IValidatableObject
{
    public const string Section = "Tokens";

    /// <summary>Shortest key accepted, in bytes: HMAC-SHA256's block of security.</summary>
    public const int MinKeyBytes = 32;

    /// <summary>Key id → base64 key (at least 32 random bytes, e.g. <c>openssl rand -base64 32</c>).</summary>
    public Dictionary<string, string> Keys { get; set; } = [];

    /// <summary>The key id new links are signed with; required when <see cref="Keys"/> has any.</summary>
    public string CurrentKeyId { get; set; } = "";

    [GeneratedRegex("^[A-Za-z0-9_-]{1,32}$")]
    public static partial Regex KeyIdPattern();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Keys.Count == 0)
        {
            if (CurrentKeyId.Length > 0)
            {
                yield return new ValidationResult(
                    $"Tokens:CurrentKeyId is '{CurrentKeyId}' but Tokens:Keys is empty: add Tokens:Keys:{CurrentKeyId}, or clear Tokens:CurrentKeyId to use the generated key file",
                    [nameof(CurrentKeyId)]);
            }
            yield break;
        }
        foreach (var (keyId, key) in Keys)
        {
            if (!KeyIdPattern().IsMatch(keyId))
            {
                yield return new ValidationResult(
                    $"Tokens:Keys:{keyId}: a key id must be 1 to 32 letters, digits, '-' or '_'", [nameof(Keys)]);
            }
            if (Decode(key) is not { Length: >= MinKeyBytes })
            {
                yield return new ValidationResult(
                    $"Tokens:Keys:{keyId} must be base64 of at least {MinKeyBytes} random bytes (e.g. the output of 'openssl rand -base64 32')",
                    [nameof(Keys)]);
            }
        }
        if (!Keys.ContainsKey(CurrentKeyId))
        {
            yield return new ValidationResult(
                $"Tokens:CurrentKeyId must name one of Tokens:Keys ({string.Join(", ", Keys.Keys)}); it is '{CurrentKeyId}'",
                [nameof(CurrentKeyId)]);
        }
    }

    /// <summary>The key's bytes, or null when it is not base64 (standard or URL-safe).</summary>
    public static byte[]? Decode(string? key)
    {
        if (string.IsNullOrWhiteSpace(key))
        {
            return null;
        }
        var standard = key.Trim().Replace('-', '+').Replace('_', '/');
        standard = standard.PadRight(standard.Length + ((4 - (standard.Length % 4)) % 4), '=');
        try
        {
            return Convert.FromBase64String(standard);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
