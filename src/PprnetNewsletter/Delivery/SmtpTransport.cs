using System.Collections.Concurrent;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// Sends through the SMTP relay on a pool of up to Smtp:MaxConnections open connections, each reused for message
/// after message. A connection that fails is thrown away and the next message opens a fresh one, so a dropped
/// connection costs one attempt, not the send.
/// </summary>
/// <remarks>
/// Every exchange is synchronous, on the caller's thread. Measured with the same messages against smtp-sink, MailKit's
/// synchronous send takes ~170 µs of CPU per message and its asynchronous one ~250 µs: each reply read asynchronously
/// is an event-loop wake-up and a hop through the thread pool. A socket stays in blocking mode only while nothing
/// on it has been asynchronous, so the web's single emails take the same path, on a pool thread.
/// </remarks>
public sealed class SmtpTransport : IMailTransport, IAsyncDisposable
{
    /// <summary>Writes held per connection until MailKit flushes: a digest (~25 KB) goes out in one send.</summary>
    const int SendBufferBytes = 64 * 1024;

    readonly SmtpOptions _options;
    readonly ILogger<SmtpTransport> _logger;
    readonly SemaphoreSlim _slots;
    readonly ConcurrentBag<Connection> _idle = [];

    readonly TimeProvider _clock;

    public SmtpTransport(IOptions<SmtpOptions> options, TimeProvider clock, ILogger<SmtpTransport> logger)
    {
        _clock = clock;
        _options = options.Value;
        _logger = logger;
        _slots = new SemaphoreSlim(_options.MaxConnections, _options.MaxConnections);
    }

    /// <summary>
    /// A session and the socket under it, opened on its first message. Nagle's algorithm against the server's delayed
    /// ACK costs ~40 ms per message (23 messages/s per connection), and MailKit's Connect(host, port) leaves it on,
    /// so the socket is ours.
    /// </summary>
    sealed class Connection(SmtpOptions options)
    {
        public Socket Socket { get; } = new(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };

        public SmtpClient Client { get; } = new() { Timeout = (int)options.Timeout.TotalMilliseconds };

        /// <summary>When the connection last finished an exchange (a TimeProvider timestamp).</summary>
        public long LastUsed { get; set; }

        public void Open(CancellationToken ct)
        {
            Socket.Connect(options.Host!, options.Port);
            var stream = new WriteCoalescingStream(new NetworkStream(Socket, ownsSocket: true), SendBufferBytes);
            Client.Connect(stream, options.Host!, options.Port, options.Security.ToSocketOptions(), ct);
            if (!string.IsNullOrEmpty(options.Username))
            {
                Client.Authenticate(options.Username, options.Password ?? "", ct);
            }
        }

        /// <summary>
        /// Closes the socket if <paramref name="ct"/> fires before the registration is disposed. MailKit's synchronous
        /// reads on a stream it was handed do not watch the token (its own socket reads poll for it); a closed socket
        /// ends them, so a time-out or a stop does not wait on the server.
        /// </summary>
        public CancellationTokenRegistration CloseOn(CancellationToken ct) =>
            ct.UnsafeRegister(static socket => ((Socket)socket!).Dispose(), Socket);

        public void Close()
        {
            Client.Dispose();
            Socket.Dispose();
        }
    }

    public DeliveryReceipt Send(MimeMessage message, CancellationToken ct)
    {
        _slots.Wait(ct);
        try
        {
            var connection = TakeIdle(ct) ?? new Connection(_options);
            string reply;
            try
            {
                // The time-out (Smtp:Timeout per attempt, connecting included) and a stop arrive through the token.
                using (connection.CloseOn(ct))
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
                Discard(connection);
                throw new OperationCanceledException("The SMTP exchange was cut off by a time-out or a stop.", e, ct);
            }
            catch (SmtpCommandException) when (connection.Client.IsConnected)
            {
                // The server refused this message but the session is fine (MailKit has reset it): keep the connection.
                connection.LastUsed = _clock.GetTimestamp();
                _idle.Add(connection);
                throw;
            }
            catch
            {
                Discard(connection);
                throw;
            }
            // A token that fired just as the reply came in may have closed the socket under a finished exchange.
            if (ct.IsCancellationRequested)
            {
                Discard(connection);
            }
            else
            {
                connection.LastUsed = _clock.GetTimestamp();
                _idle.Add(connection);
            }
            return new DeliveryReceipt(reply);
        }
        finally
        {
            _slots.Release();
        }
    }

    public Task<DeliveryReceipt> SendAsync(MimeMessage message, CancellationToken ct) => Task.Run(() => Send(message, ct), ct);

    public string Describe() =>
        $"SMTP {_options.Host}:{_options.Port} ({_options.Security}{(string.IsNullOrEmpty(_options.Username) ? "" : ", as " + _options.Username)}), " +
        $"{Counted.Of(_options.MaxConnections, "connection")}{(_options.MessagesPerSecond > 0 ? $", at most {_options.MessagesPerSecond}/s" : "")}";

    /// <summary>
    /// A pooled connection fit to use, or null. IsConnected does no I/O, so one idle longer than Smtp:IdleTimeout is
    /// asked NOOP first; a relay that closed it meanwhile costs a new connection, never a failed message nor a
    /// failure counted by the circuit breaker.
    /// </summary>
    Connection? TakeIdle(CancellationToken ct)
    {
        while (_idle.TryTake(out var idle))
        {
            if (!idle.Client.IsConnected)
            {
                Discard(idle);
                continue;
            }
            if (_clock.GetElapsedTime(idle.LastUsed) <= _options.IdleTimeout)
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
                _logger.LogDebug(e, "An idle SMTP connection no longer answers (the relay closed it); opening a new one");
                Discard(idle);
            }
        }
        return null;
    }


    void Discard(Connection connection)
    {
        try
        {
            // The connection is broken or in an unknown state: close it without a polite QUIT.
            connection.Close();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            _logger.LogDebug(e, "Closing a broken SMTP connection failed");
        }
    }

    public ValueTask DisposeAsync()
    {
        while (_idle.TryTake(out var connection))
        {
            try
            {
                if (connection.Client.IsConnected)
                {
                    using var quit = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    using (connection.CloseOn(quit.Token))
                    {
                        connection.Client.Disconnect(quit: true, quit.Token);
                    }
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException
                                          or MailKit.Net.Smtp.SmtpProtocolException or SmtpCommandException)
            {
                _logger.LogDebug(e, "QUIT on an SMTP connection failed; closing it");
            }
            finally
            {
                connection.Close();
            }
        }
        _slots.Dispose();
        return ValueTask.CompletedTask;
    }
}
