using System.Net.Sockets;
using MailKit.Net.Smtp;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// A session with the relay and the socket under it, opened on its first message and kept on its relay slot for the
/// next. Nagle's algorithm against the server's delayed ACK costs ~40 ms per message (23 messages/s per connection),
/// and MailKit's Connect(host, port) leaves it on, so the socket is ours.
/// </summary>
internal sealed class SmtpConnection(SmtpOptions options)
{
    /// <summary>Writes held per connection until MailKit flushes: a digest (~25 KB) goes out in one send.</summary>
    const int SendBufferBytes = 64 * 1024;

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

    /// <summary>Cuts the socket from any thread, in use or not: the exchange on it, if any, fails and discards it.</summary>
    public void Abort() => Socket.Dispose();

    /// <summary>Closes without a polite QUIT (broken, or in an unknown state).</summary>
    public void Close()
    {
        Client.Dispose();
        Socket.Dispose();
    }

    /// <summary>Says QUIT (for at most two seconds), then closes. Only for a connection no exchange is using.</summary>
    public void Quit(ILogger logger)
    {
        try
        {
            if (Client.IsConnected)
            {
                using var quit = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                using (CloseOn(quit.Token))
                {
                    Client.Disconnect(quit: true, quit.Token);
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException
                                      or SmtpProtocolException or SmtpCommandException)
        {
            logger.LogDebug(e, "QUIT on an SMTP connection failed; closing it");
        }
        finally
        {
            Close();
        }
    }
}
