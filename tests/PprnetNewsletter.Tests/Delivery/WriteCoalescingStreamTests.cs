using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MimeKit;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Delivery;

public sealed class WriteCoalescingStreamTests
{
    [Fact]
    public async Task Writes_wait_for_the_flush_and_a_reply_read_ahead_does_not_stop_the_next_write()
    {
        using var tcp = await LoopbackConnection.OpenAsync();
        var fromServer = tcp.Server.GetStream();
        await using var stream = new WriteCoalescingStream(tcp.Client.GetStream(), 16 * 1024);

        // Two pipelined replies arrive together; the client reads only part of them before it writes again.
        await fromServer.WriteAsync("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"u8.ToArray());
        var first = new byte[14];
        await stream.ReadExactlyAsync(first);
        Assert.Equal("250 2.1.0 Ok\r\n", Encoding.ASCII.GetString(first));

        var message = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 900).Select(i => $"line {i:D4}\r\n")));
        var blocks = message.Chunk(4096).ToList();
        foreach (var block in blocks.Take(3))
        {
            await stream.WriteAsync(block);
        }
        await Task.Delay(100);
        Assert.Equal(0, tcp.Server.Available); // held: 12 KB of 16

        foreach (var block in blocks.Skip(3))
        {
            await stream.WriteAsync(block); // the buffer fills: what was held goes out, the rest waits
        }
        await stream.FlushAsync();
        var received = new byte[message.Length];
        await fromServer.ReadExactlyAsync(received).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(message, received);

        // The rest of the replies is still there to read, after the writes.
        var second = new byte[14];
        await stream.ReadExactlyAsync(second);
        Assert.Equal("250 2.1.5 Ok\r\n", Encoding.ASCII.GetString(second));
    }

    [Fact]
    public async Task Every_message_length_reaches_the_relay_whole_before_the_client_waits_for_its_reply()
    {
        // MailKit hands its writes on in blocks of its own and does not always flush the stream under it at the end of
        // the data: when the last block filled its buffer exactly, the end of the message stayed held here while the
        // client waited for the relay's reply to it, and the relay for the rest of the message, until the time-out.
        // Every length over one whole period of its blocks must go out.
        await using var smtp = await SmtpTestServer.StartAsync();
        var config = smtp.ClientConfig(connections: 1);
        config["Smtp:Timeout"] = "00:00:02";
        await using var test = await TestApp.CreateAsync(config);
        var transport = test.Get<IMailTransport>();
        var stuck = new List<int>();
        await Task.Factory.StartNew(() =>
        {
            for (var length = 4000; length < 4000 + 4096 + 64; length++)
            {
                using var message = new MimeMessage(
                    [new MailboxAddress("", "digest@example.org")], [new MailboxAddress("", "reader@example.org")], "Length " + length,
                    new TextPart("plain") { Text = new string('x', length) });
                try
                {
                    transport.Send(message, CancellationToken.None);
                }
                catch (Exception e) when (e is OperationCanceledException or TimeoutException or IOException)
                {
                    stuck.Add(length);
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        Assert.Empty(stuck);
    }

    [Fact]
    public async Task A_write_larger_than_the_buffer_goes_out_in_order_after_what_was_held()
    {
        using var tcp = await LoopbackConnection.OpenAsync();
        await using var stream = new WriteCoalescingStream(tcp.Client.GetStream(), 1024);

        var small = "DATA\r\n"u8.ToArray();
        var large = Enumerable.Range(0, 5000).Select(i => (byte)('a' + (i % 26))).ToArray();
        await stream.WriteAsync(small);
        await stream.WriteAsync(large);
        stream.Write(small);
        await stream.FlushAsync();

        var received = new byte[small.Length + large.Length + small.Length];
        await tcp.Server.GetStream().ReadExactlyAsync(received).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([.. small, .. large, .. small], received);
    }

    [Fact]
    public async Task Tls_over_it_completes_its_handshake_and_carries_a_flushed_message()
    {
        // STARTTLS and SslOnConnect put an SslStream over this one: the handshake must not sit in the buffer.
        using var certificate = SelfSigned();
        using var tcp = await LoopbackConnection.OpenAsync();
        await using var serverTls = new SslStream(tcp.Server.GetStream());
        await using var clientTls = ClientTls(tcp, certificate);

        var timeout = TimeSpan.FromSeconds(10);
        await Task.WhenAll(
            clientTls.AuthenticateAsClientAsync("localhost").WaitAsync(timeout),
            serverTls.AuthenticateAsServerAsync(certificate).WaitAsync(timeout));

        var message = Enumerable.Range(0, 40_000).Select(i => (byte)('A' + (i % 26))).ToArray();
        await clientTls.WriteAsync(message);
        await clientTls.FlushAsync();
        var received = new byte[message.Length];
        await serverTls.ReadExactlyAsync(received).AsTask().WaitAsync(timeout);
        Assert.Equal(message, received);

        await serverTls.WriteAsync("250 2.0.0 Ok\r\n"u8.ToArray());
        var reply = new byte[14];
        await clientTls.ReadExactlyAsync(reply).AsTask().WaitAsync(timeout);
        Assert.Equal("250 2.0.0 Ok\r\n", Encoding.ASCII.GetString(reply));
    }

    [Fact]
    public async Task Tls_over_it_works_with_the_synchronous_calls_the_sending_engine_makes()
    {
        using var certificate = SelfSigned();
        using var tcp = await LoopbackConnection.OpenAsync();
        await using var serverTls = new SslStream(tcp.Server.GetStream());
        using var clientTls = ClientTls(tcp, certificate);
        var message = Enumerable.Range(0, 40_000).Select(i => (byte)('A' + (i % 26))).ToArray();

        // The client's side on a thread of its own, blocking, as a connection's worker does.
        var client = Task.Factory.StartNew(() =>
        {
            clientTls.AuthenticateAsClient("localhost");
            clientTls.Write(message);
            clientTls.Flush();
            var reply = new byte[14];
            clientTls.ReadExactly(reply);
            return Encoding.ASCII.GetString(reply);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var timeout = TimeSpan.FromSeconds(10);
        await serverTls.AuthenticateAsServerAsync(certificate).WaitAsync(timeout);
        var received = new byte[message.Length];
        await serverTls.ReadExactlyAsync(received).AsTask().WaitAsync(timeout);
        await serverTls.WriteAsync("250 2.0.0 Ok\r\n"u8.ToArray());

        Assert.Equal(message, received);
        Assert.Equal("250 2.0.0 Ok\r\n", await client.WaitAsync(timeout));
    }

    /// <summary>A certificate for localhost, made for the test and valid for a day either side of now.</summary>
    static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>The client's TLS over a coalescing stream, trusting exactly <paramref name="certificate"/>.</summary>
    static SslStream ClientTls(LoopbackConnection tcp, X509Certificate2 certificate) =>
        new(new WriteCoalescingStream(tcp.Client.GetStream(), 64 * 1024), leaveInnerStreamOpen: false,
            (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString());
}

/// <summary>Both ends of a TCP connection on the loopback, Nagle off at the client's end.</summary>
sealed class LoopbackConnection : IDisposable
{
    LoopbackConnection(TcpClient client, TcpClient server) => (Client, Server) = (client, server);

    public TcpClient Client { get; }

    public TcpClient Server { get; }

    public static async Task<LoopbackConnection> OpenAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        return new LoopbackConnection(client, await listener.AcceptTcpClientAsync());
    }

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
    }
}
