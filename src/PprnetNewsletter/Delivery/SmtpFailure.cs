using System.Net.Sockets;
using System.Text.RegularExpressions;
using MailKit;
using MailKit.Net.Smtp;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace PprnetNewsletter.Delivery;

public enum FailureKind
{
    /// <summary>Worth trying again later: 4xx replies, dropped connections, time-outs.</summary>
    Transient,

    /// <summary>The server refused this message for good (5xx): the row fails.</summary>
    Permanent,

    /// <summary>Nothing can be sent until someone fixes the configuration (credentials, TLS): the send stops.</summary>
    Fatal,
}

/// <summary>What went wrong with one attempt, read from whatever MailKit, the socket or Polly threw.</summary>
public sealed partial record SmtpFailure(FailureKind Kind, int? Code, string? EnhancedStatus, string Text, bool ConnectionLevel, bool NoSuchUser)
{
    /// <summary>"550 5.1.1 No such user", or the error text when the server never replied.</summary>
    public string Summary => Code is null ? Text : $"{Code} {(EnhancedStatus is null ? "" : EnhancedStatus + " ")}{StripEnhanced(Text)}".Trim();

    public static SmtpFailure Classify(Exception e) => e switch
    {
        SmtpCommandException { ErrorCode: SmtpErrorCode.UnexpectedStatusCode } c when RefusesSession((int)c.StatusCode, c.Message) =>
            new(FailureKind.Fatal, (int)c.StatusCode, EnhancedOf(c.Message),
                $"the SMTP server refused TLS or authentication: {(int)c.StatusCode} {c.Message}", false, false),
        SmtpCommandException c => FromReply((int)c.StatusCode, c.Message),
        MailKit.Security.AuthenticationException or ServiceNotAuthenticatedException =>
            new(FailureKind.Fatal, null, null, $"the SMTP server refused the credentials: {e.Message}", false, false),
        MailKit.Security.SslHandshakeException or System.Security.Authentication.AuthenticationException =>
            new(FailureKind.Fatal, null, null, $"TLS with the SMTP server failed: {e.Message}", false, false),
        // MailKit's words when the server does not offer STARTTLS or authentication the configuration asks for.
        NotSupportedException => new(FailureKind.Fatal, null, null, e.Message, false, false),
        BrokenCircuitException => new(FailureKind.Transient, null, null, "the SMTP server keeps failing; sending is paused", true, false),
        TimeoutRejectedException or TimeoutException => new(FailureKind.Transient, null, null, $"timed out: {e.Message}", true, false),
        SocketException s => new(FailureKind.Transient, null, null, $"network error ({s.SocketErrorCode}): {s.Message}", true, false),
        SmtpProtocolException or ServiceNotConnectedException or IOException =>
            new(FailureKind.Transient, null, null, $"connection lost: {e.Message}", true, false),
        _ => new(FailureKind.Transient, null, null, $"{e.GetType().Name}: {e.Message}", true, false),
    };

    /// <summary>
    /// A reply to a command of the session's set-up (EHLO, STARTTLS, AUTH), not to a message: a refusal of TLS or of
    /// authentication -- 454 (TLS not available), 530/534/535/538, or any 4.7.x/5.7.x security status -- would
    /// meet every message the same way, so it stops the run instead of deferring the list.
    /// </summary>
    static bool RefusesSession(int code, string text) =>
        code is 454 or 530 or 534 or 535 or 538
        // 421 is the server closing the connection (busy, too many connections): a pause, even with a 4.7.0 status.
        || (code != 421 && EnhancedOf(text) is { } e && (e.StartsWith("5.7.", StringComparison.Ordinal) || e.StartsWith("4.7.", StringComparison.Ordinal)));

    static string? EnhancedOf(string text) => EnhancedStatusPattern().Match(text) is { Success: true } m ? m.Groups[1].Value : null;

    static SmtpFailure FromReply(int code, string text)
    {
        var enhanced = EnhancedOf(text);
        // 530/534/535/538: authentication required or refused; every message would fail the same way.
        if (code is 530 or 534 or 535 or 538)
        {
            return new(FailureKind.Fatal, code, enhanced, $"the SMTP server requires or refused authentication: {text}", false, false);
        }
        if (code is >= 400 and < 500)
        {
            // 421: the server is closing the connection (shutting down, overloaded): a server problem, not this message's.
            return new(FailureKind.Transient, code, enhanced, text, code == 421, false);
        }
        var noSuchUser = enhanced is "5.1.1" or "5.1.10"
            || (enhanced is null && code == 550 && NoSuchUserPattern().IsMatch(text));
        return new(FailureKind.Permanent, code, enhanced, text, false, noSuchUser);
    }

    static string StripEnhanced(string text) => EnhancedStatusPattern().Replace(text, "", 1).Trim();

    [GeneratedRegex(@"^\s*([245]\.\d{1,3}\.\d{1,3})\b")]
    private static partial Regex EnhancedStatusPattern();

    [GeneratedRegex("no such (user|mailbox|recipient)|user unknown|unknown (user|recipient)|does not exist|mailbox not found", RegexOptions.IgnoreCase)]
    private static partial Regex NoSuchUserPattern();
}

/// <summary>
/// The send cannot go on (bad credentials, TLS failure): stopped at once rather than failing every recipient.
/// Rows in flight went back to the queue; nothing was marked failed.
/// </summary>
public sealed class DeliveryHaltedException(string message, Exception? inner) : Exception(message, inner);
