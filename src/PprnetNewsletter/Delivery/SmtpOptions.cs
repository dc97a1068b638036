using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace PprnetNewsletter.Delivery;

[TypeConverter(typeof(SmtpSecurityConverter))]
public enum SmtpSecurity
{
    None,
    StartTls,
    SslOnConnect,
}

public static class SmtpSecurityExtensions
{
    /// <summary>MailKit's name for the setting; the SMTP relay and the bounce mailbox (IMAP) both connect with it.</summary>
    public static MailKit.Security.SecureSocketOptions ToSocketOptions(this SmtpSecurity security) => security switch
    {
        SmtpSecurity.StartTls => MailKit.Security.SecureSocketOptions.StartTls,
        SmtpSecurity.SslOnConnect => MailKit.Security.SecureSocketOptions.SslOnConnect,
        _ => MailKit.Security.SecureSocketOptions.None,
    };
}

/// <summary>The SMTP relay. With no host, mail goes to the pickup directory instead.</summary>
public sealed class SmtpOptions
{
    public const string Section = "Smtp";

    public string? Host { get; set; }

    [Range(1, 65535, ErrorMessage = "Smtp:Port must be between 1 and 65535")]
    public int Port { get; set; } = 25;

    public SmtpSecurity Security { get; set; } = SmtpSecurity.None;

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>How many connections the pool keeps open and sends on at once.</summary>
    [Range(1, 64, ErrorMessage = "Smtp:MaxConnections must be between 1 and 64")]
    public int MaxConnections { get; set; } = 4;

    /// <summary>Global rate limit across all connections; 0 means none.</summary>
    [Range(0, 100_000, ErrorMessage = "Smtp:MessagesPerSecond must be between 0 (no limit) and 100000")]
    public int MessagesPerSecond { get; set; }

    /// <summary>How long one message (or connecting) may take before the attempt counts as a transient failure.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00", ErrorMessage = "Smtp:Timeout must be between 00:00:00.100 and 00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A pooled connection idle longer than this is checked with NOOP before it carries a message (replaced if the
    /// relay closed it meanwhile): relays close idle sessions, and a socket does not know until it is used.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "Smtp:IdleTimeout must be between 00:00:00 and 01:00:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public bool UsesPickupDirectory => string.IsNullOrWhiteSpace(Host);
}

/// <summary>
/// Reads Smtp:Security. The configuration binder's own error for a bad enum value does not say which values
/// exist; this one does (the binder wraps it and names the key).
/// </summary>
public sealed class SmtpSecurityConverter : EnumConverter
{
    public SmtpSecurityConverter() : base(typeof(SmtpSecurity))
    {
    }

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string text && Enum.TryParse<SmtpSecurity>(text.Trim(), ignoreCase: true, out var security) && Enum.IsDefined(security)
            ? security
            : throw new FormatException(
                $"Smtp:Security \"{value}\" is not valid; use one of {string.Join(", ", Enum.GetNames<SmtpSecurity>())}.");
}
