using System.Net;
using System.Net.Sockets;
using System.Text;
using PprnetNewsletter.Delivery;

namespace PprnetNewsletter.Tests.Delivery;

public sealed class WriteCoalescingStreamTests
{
    [Fact]
    public async Task Writes_wait_for_the_flush_and_a_reply_read_ahead_does_not_stop_the_next_write()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var server = await listener.AcceptTcpClientAsync();
        var fromServer = server.GetStream();
        await using var stream = new WriteCoalescingStream(client.GetStream(), 16 * 1024);

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
        Assert.Equal(0, server.Available); // held: 12 KB of 16

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
    public async Task A_write_larger_than_the_buffer_goes_out_in_order_after_what_was_held()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var server = await listener.AcceptTcpClientAsync();
        await using var stream = new WriteCoalescingStream(client.GetStream(), 1024);

        var small = "DATA\r\n"u8.ToArray();
        var large = Enumerable.Range(0, 5000).Select(i => (byte)('a' + (i % 26))).ToArray();
        await stream.WriteAsync(small);
        await stream.WriteAsync(large);
        stream.Write(small);
        await stream.FlushAsync();

        var received = new byte[small.Length + large.Length + small.Length];
        await server.GetStream().ReadExactlyAsync(received).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([.. small, .. large, .. small], received);
    }
}
