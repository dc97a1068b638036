using System.Diagnostics.CodeAnalysis;
using MimeKit;

namespace PprnetNewsletter.Subscribers;

/// <summary>
/// What the newsletter accepts as a subscriber's address: exactly one plain address (local@domain), as MimeKit's
/// strict parser reads it, on a real internet domain. Anything a header could be tricked with — a display name,
/// angle brackets, a group, comments, a second address, CR/LF — is refused, so a stored address can always go
/// into a To header as it is. Normalised form: trimmed, domain lower-cased and, when international, in punycode.
/// </summary>
public static class EmailAddressRules
{
    /// <summary>RFC 5321's limit for a forward path, the practical limit for an address.</summary>
    public const int MaxLength = 254;

    const int MaxLocalPartLength = 64;
    const int MaxLabelLength = 63;

    static readonly ParserOptions Strict = CreateParserOptions();

    static ParserOptions CreateParserOptions()
    {
        var options = ParserOptions.Default.Clone();
        options.AddressParserComplianceMode = RfcComplianceMode.Strict;
        options.AllowAddressesWithoutDomain = false;
        options.AllowUnquotedCommasInAddresses = false;
        return options;
    }

    /// <summary>The normalised address, or false and a reason that says what is wrong.</summary>
    public static bool TryNormalize(string? input, [NotNullWhen(true)] out string? email, [NotNullWhen(false)] out string? problem)
    {
        email = null;
        problem = Check(input?.Trim() ?? "", out var normalised);
        if (problem is null)
        {
            email = normalised;
            return true;
        }
        return false;
    }

    /// <summary>The normalised address; a <see cref="Hosting.UsageException"/> naming the problem otherwise.</summary>
    public static string Normalize(string? input) =>
        TryNormalize(input, out var email, out var problem)
            ? email
            : throw new Hosting.UsageException($"'{Printable(input)}' is not a usable email address: {problem}.");

    /// <summary>The lower-cased address, the form suppressions are kept in.</summary>
    public static string Key(string normalisedEmail) => normalisedEmail.ToLowerInvariant();

    static string? Check(string text, out string normalised)
    {
        normalised = "";
        if (text.Length == 0)
        {
            return "it is empty";
        }
        if (text.Any(char.IsControl))
        {
            return "it contains a line break or another control character";
        }
        if (text.IndexOfAny(['<', '>', '"', '(', ')', ',', ';', ':', '[', ']', '\\']) >= 0)
        {
            return "enter the address alone, like name@example.org, without a name, quotes, brackets or a second address";
        }
        if (text.Any(char.IsWhiteSpace))
        {
            return "it contains a space; enter the address alone, like name@example.org";
        }
        if (!MailboxAddress.TryParse(Strict, text, out var mailbox) || mailbox is null || !string.IsNullOrEmpty(mailbox.Name) || mailbox.Route.Count > 0)
        {
            return "it is not a valid address; it should look like name@example.org";
        }

        // With every special character refused above, the text is exactly local@domain: check its parts as typed.
        var at = text.LastIndexOf('@');
        if (at <= 0 || text.IndexOf('@') != at)
        {
            return "it needs exactly one @ between a name and a domain, like name@example.org";
        }
        var local = text[..at];
        if (local.Length > MaxLocalPartLength)
        {
            return $"the part before the @ is longer than {MaxLocalPartLength} characters";
        }
        if (!local.All(char.IsAscii))
        {
            return "the part before the @ must use plain (ASCII) letters, digits and punctuation";
        }
        var domainProblem = CheckDomain(text[(at + 1)..], out var domain);
        if (domainProblem is not null)
        {
            return domainProblem;
        }
        normalised = $"{local}@{domain}";
        return normalised.Length > MaxLength ? $"it is longer than {MaxLength} characters" : null;
    }

    static string? CheckDomain(string input, out string domain)
    {
        domain = "";
        if (input.StartsWith('.') || input.EndsWith('.'))
        {
            return $"the domain '{input}' is not a valid internet domain name";
        }
        // Checked as typed: IDNA mapping would silently drop a zero-width character and hide the trick.
        if (DeceptiveText.Problem(input) is { } typed)
        {
            return $"the domain is not usable: {typed}";
        }
        string ascii;
        try
        {
            var lower = input.ToLowerInvariant();
            ascii = lower.All(char.IsAscii) ? lower : MailboxAddress.IdnMapping.Encode(lower).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return $"the domain '{input}' is not a valid internet domain name";
        }
        var labels = ascii.Split('.');
        if (labels.Length < 2)
        {
            return $"the domain '{input}' has no dot; a full domain like example.org is needed";
        }
        foreach (var label in labels)
        {
            if (label.Length == 0 || label.Length > MaxLabelLength || label[0] == '-' || label[^1] == '-'
                || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return $"the domain '{input}' is not a valid internet domain name";
            }
        }
        foreach (var label in labels)
        {
            if (DeceptiveText.UnicodeLabel(label) is not { } unicode)
            {
                return $"the domain '{input}' holds '{label}', which is not valid punycode";
            }
            if (DeceptiveText.Problem(unicode) is { } decoded)
            {
                return $"the domain is not usable: {decoded}";
            }
        }
        if (labels[^1].All(char.IsAsciiDigit))
        {
            return "an IP address cannot be used as the domain; use the domain name, like example.org";
        }
        domain = ascii;
        return null;
    }

    /// <summary>The input with control characters made visible, safe to echo in a message.</summary>
    public static string Printable(string? input)
    {
        var text = input ?? "";
        if (text.Length > MaxLength + 10)
        {
            text = text[..(MaxLength + 10)] + "…";
        }
        return string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }
}

/// <summary>
/// What the newsletter accepts as a subscriber's name: optional, at most 100 characters, one line, no encoded-word
/// lookalike and nothing <see cref="DeceptiveText"/> refuses.
/// </summary>
public static class SubscriberNameRules
{
    public const int MaxLength = 100;

    /// <summary>The trimmed name (empty for none), or false and a reason.</summary>
    public static bool TryNormalize(string? input, [NotNullWhen(true)] out string? name, [NotNullWhen(false)] out string? problem)
    {
        name = null;
        var text = input?.Trim() ?? "";
        problem = text.Any(c => c is '\r' or '\n' or '\u2028' or '\u2029') ? "the name must be on one line (no line breaks)"
            : text.Any(char.IsControl) ? "the name contains a control character"
            : text.Length > MaxLength ? $"the name is longer than {MaxLength} characters"
            // "=?utf-8?b?...?=" is an RFC 2047 encoded word: a mail program decodes it, whatever it hides.
            : text.Contains("=?", StringComparison.Ordinal) ? "the name cannot contain '=?' (mail programs read it as encoded text)"
            : DeceptiveText.Problem(text) is { } deceptive ? $"the name is not usable: {deceptive}"
            : null;
        if (problem is null)
        {
            name = text;
            return true;
        }
        return false;
    }

    public static string Normalize(string? input) =>
        TryNormalize(input, out var name, out var problem) ? name : throw new Hosting.UsageException($"Name: {problem}.");
}
