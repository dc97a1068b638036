using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using MimeKit;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// Sends through the SMTP relay, one message at a time on each relay slot this process holds (<see cref="RelayGate"/>):
/// the slot's connection is reused for message after message. A connection that fails is thrown away and the slot's
/// next message opens a fresh one, so a dropped connection costs one attempt, not the send.
/// </summary>
/// <remarks>
/// Every exchange is synchronous, on the caller's thread. Measured with the same messages against smtp-sink, MailKit's
/// synchronous send takes ~170 µs of CPU per message and its asynchronous one ~250 µs: each reply read asynchronously
/// is an event-loop wake-up and a hop through the thread pool. A socket stays in blocking mode only while nothing
/// on it has been asynchronous, so the web's single emails take the same path, on a pool thread. Smtp:Timeout counts
/// from the moment the message has its turn: waiting for a slot (another process holding the relay) is not a failure.
/// </remarks>
public sealed class SmtpTransport(IOptions<SmtpOptions> options, RelayGate gate, TimeProvider clock, ILogger<SmtpTransport> logger) : IMailTransport
{
    readonly SmtpOptions _options = options.Value;

    public DeliveryReceipt Send(MimeMessage message, CancellationToken ct)
    {
        using var turn = gate.Take(ct);
        return Exchange(turn.Slot, message, ct);
    }

    public async Task<DeliveryReceipt> SendAsync(MimeMessage message, CancellationToken ct)
    {
        using var turn = await gate.TakeAsync(ct);
        var slot = turn.Slot;
        return await Task.Run(() => Exchange(slot, message, ct), ct);
    }

    DeliveryReceipt Exchange(RelaySlot slot, MimeMessage message, CancellationToken ct)
    {
        var connection = Reusable(slot, ct) ?? new SmtpConnection(_options);
        // On the slot while in use, so the gate can cut it if the slot is lost.
        slot.Connection = connection;
        using var timeout = new CancellationTokenSource(_options.Timeout, clock);
        string reply;
        try
        {
            // The time-out and a stop both close the socket, which ends MailKit's blocking reads.
            using (connection.CloseOn(ct))
            using (connection.CloseOn(timeout.Token))
            {
                if (!connection.Client.IsConnected)
                {
                    connection.Open(ct);
                }
                reply = message is EnvelopeMessage { EnvelopeSender: var sender }
                    ? connection.Client.Send(FormatOptions.Default, message, sender, message.To.Mailboxes, ct)
                    : connection.Client.Send(message, ct);
            }
        }
        catch (Exception e) when (ct.IsCancellationRequested && e is not OperationCanceledException)
        {
            Discard(slot, connection);
            throw new OperationCanceledException("The SMTP exchange was cut off by a stop.", e, ct);
        }
        catch (Exception e) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            Discard(slot, connection);
            throw new TimeoutException($"The SMTP server did not finish the exchange within Smtp:Timeout ({_options.Timeout}).", e);
        }
        catch (SmtpCommandException) when (connection.Client.IsConnected)
        {
            // The server refused this message but the session is fine (MailKit has reset it): keep the connection.
            connection.LastUsed = clock.GetTimestamp();
            throw;
        }
        catch
        {
            Discard(slot, connection);
            throw;
        }
        // A token that fired just as the reply came in may have closed the socket under a finished exchange.
        if (ct.IsCancellationRequested || timeout.IsCancellationRequested)
        {
            Discard(slot, connection);
        }
        else
        {
            connection.LastUsed = clock.GetTimestamp();
        }
        return new DeliveryReceipt(reply);
    }

    public string Describe() =>
        $"SMTP {_options.Host}:{_options.Port} ({_options.Security}{(string.IsNullOrEmpty(_options.Username) ? "" : ", as " + _options.Username)}), " +
        $"{Counted.Of(_options.MaxConnections, "connection")}{(_options.MessagesPerSecond > 0 ? $", at most {_options.MessagesPerSecond}/s" : "")}, " +
        "shared by every process on the database";

    /// <summary>
    /// The slot's connection if it is fit to use, or null. IsConnected does no I/O, so one idle longer than
    /// Smtp:IdleTimeout is asked NOOP first; a relay that closed it meanwhile costs a new connection, never a failed
    /// message nor a failure counted by the circuit breaker.
    /// </summary>
    SmtpConnection? Reusable(RelaySlot slot, CancellationToken ct)
    {
        if (slot.Connection is not { } idle)
        {
            return null;
        }
        if (!idle.Client.IsConnected)
        {
            Discard(slot, idle);
            return null;
        }
        if (clock.GetElapsedTime(idle.LastUsed) <= _options.IdleTimeout)
        {
            return idle;
        }
        try
        {
            using (idle.CloseOn(ct))
            {
                idle.Client.NoOp(ct);
            }
            return idle;
        }
        catch (Exception e) when (e is IOException or SocketException or SmtpProtocolException or SmtpCommandException
                                      or ServiceNotConnectedException or ObjectDisposedException)
        {
            logger.LogDebug(e, "An idle SMTP connection no longer answers (the relay closed it); opening a new one");
            Discard(slot, idle);
            return null;
        }
    }

    void Discard(RelaySlot slot, SmtpConnection connection)
    {
        slot.Connection = null;
        try
        {
            // The connection is broken or in an unknown state: close it without a polite QUIT.
            connection.Close();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            logger.LogDebug(e, "Closing a broken SMTP connection failed");
        }
    }
}
