using System.ComponentModel.DataAnnotations;

namespace PprnetNewsletter.Delivery;

public enum SmtpSecurity
{
    None,
    StartTls,
    SslOnConnect,
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

    public bool UsesPickupDirectory => string.IsNullOrWhiteSpace(Host);
}
