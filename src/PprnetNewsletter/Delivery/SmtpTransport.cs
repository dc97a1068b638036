using System.Collections.Concurrent;
using System.Net.Sockets;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// Sends through the SMTP relay on a pool of up to Smtp:MaxConnections open connections, each reused for message
/// after message. A connection that fails is thrown away and the next message opens a fresh one, so a dropped
/// connection costs one attempt, not the send.
/// </summary>
public sealed class SmtpTransport : IMailTransport, IAsyncDisposable
{
    /// <summary>Writes held per connection until MailKit flushes: a digest (~25 KB) goes out in one send.</summary>
    const int SendBufferBytes = 64 * 1024;

    readonly SmtpOptions _options;
    readonly ILogger<SmtpTransport> _logger;
    readonly SemaphoreSlim _slots;
    readonly ConcurrentBag<SmtpClient> _idle = [];

    public SmtpTransport(IOptions<SmtpOptions> options, ILogger<SmtpTransport> logger)
    {
        _options = options.Value;
        _logger = logger;
        _slots = new SemaphoreSlim(_options.MaxConnections, _options.MaxConnections);
    }

    public async Task<DeliveryReceipt> SendAsync(MimeMessage message, CancellationToken ct)
    {
        await _slots.WaitAsync(ct);
        SmtpClient? client = null;
        try
        {
            client = await RentAsync(ct);
            var reply = await client.SendAsync(message, ct);
            _idle.Add(client);
            client = null;
            return new DeliveryReceipt(reply);
        }
        catch (SmtpCommandException) when (client is { IsConnected: true })
        {
            // The server refused this message but the session is fine (MailKit has reset it): keep the connection.
            _idle.Add(client);
            client = null;
            throw;
        }
        finally
        {
            if (client is not null)
            {
                Discard(client);
            }
            _slots.Release();
        }
    }

    public string Describe() =>
        $"SMTP {_options.Host}:{_options.Port} ({_options.Security}{(string.IsNullOrEmpty(_options.Username) ? "" : ", as " + _options.Username)}), " +
        $"{_options.MaxConnections} connection(s){(_options.MessagesPerSecond > 0 ? $", at most {_options.MessagesPerSecond}/s" : "")}";

    async Task<SmtpClient> RentAsync(CancellationToken ct)
    {
        while (_idle.TryTake(out var idle))
        {
            if (idle.IsConnected)
            {
                return idle;
            }
            Discard(idle);
        }
        return await ConnectAsync(ct);
    }

    async Task<SmtpClient> ConnectAsync(CancellationToken ct)
    {
        // Nagle's algorithm against the server's delayed ACK costs ~40 ms per message (23 messages/s per
        // connection); MailKit's ConnectAsync(host, port) leaves it on, so connect the socket ourselves. A time-out
        // is the resilience pipeline's (Smtp:Timeout per attempt, connecting included), through the token.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var client = new SmtpClient { Timeout = (int)_options.Timeout.TotalMilliseconds };
        try
        {
            await socket.ConnectAsync(_options.Host!, _options.Port, ct);
            var stream = new WriteCoalescingStream(new NetworkStream(socket, ownsSocket: true), SendBufferBytes);
            await client.ConnectAsync(stream, _options.Host!, _options.Port, SecureOptions(_options.Security), ct);
            if (!string.IsNullOrEmpty(_options.Username))
            {
                await client.AuthenticateAsync(_options.Username, _options.Password ?? "", ct);
            }
            return client;
        }
        catch
        {
            client.Dispose();
            socket.Dispose();
            throw;
        }
    }

    static SecureSocketOptions SecureOptions(SmtpSecurity security) => security switch
    {
        SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        _ => SecureSocketOptions.None,
    };

    void Discard(SmtpClient client)
    {
        try
        {
            // The connection is broken or in an unknown state: close it without a polite QUIT.
            client.Dispose();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            _logger.LogDebug(e, "Closing a broken SMTP connection failed");
        }
    }

    public async ValueTask DisposeAsync()
    {
        while (_idle.TryTake(out var client))
        {
            try
            {
                if (client.IsConnected)
                {
                    using var quit = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await client.DisconnectAsync(quit: true, quit.Token);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or MailKit.Net.Smtp.SmtpProtocolException or SmtpCommandException)
            {
                _logger.LogDebug(e, "QUIT on an SMTP connection failed; closing it");
            }
            finally
            {
                client.Dispose();
            }
        }
        _slots.Dispose();
    }
}
