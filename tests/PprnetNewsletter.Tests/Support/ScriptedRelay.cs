using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PprnetNewsletter.Tests.Support;

/// <summary>
/// A bare SMTP responder on 127.0.0.1 for replies the SmtpServer package cannot give: it greets, answers EHLO with
/// the given capabilities, takes DATA (354, then 250 after the final dot), and answers every other command from
/// <see cref="Reply"/> (QUIT always gets 221; a null reply is silence: the session waits for the client to give up). With an idle limit, it closes a session silent that long without a word,
/// as relays do.
/// </summary>
public sealed class ScriptedRelay : IAsyncDisposable
{
    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly CancellationTokenSource _stop = new();
    readonly Task _accepting;
    int _connections;

    readonly TimeSpan? _closeIdleAfter;
    int _messages;

    ScriptedRelay(string[] capabilities, Func<string, string?> reply, TimeSpan? closeIdleAfter)
    {
        Reply = reply;
        _closeIdleAfter = closeIdleAfter;
        _listener.Start();
        _accepting = AcceptAsync(capabilities);
    }

    public static ScriptedRelay Start(string[] capabilities, Func<string, string?> reply, TimeSpan? closeIdleAfter = null) =>
        new(capabilities, reply, closeIdleAfter);

    /// <summary>Messages taken (250 after DATA).</summary>
    public int Messages => Volatile.Read(ref _messages);

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>The reply (code and text, no CRLF) to a command line other than EHLO and QUIT; null: no reply.</summary>
    public Func<string, string?> Reply { get; }

    async Task AcceptAsync(string[] capabilities)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Interlocked.Increment(ref _connections);
            _ = ServeAsync(client, capabilities);
        }
    }

    async Task ServeAsync(TcpClient client, string[] capabilities)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                using var reader = new StreamReader(stream, Encoding.ASCII);
                await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
                await writer.WriteLineAsync("220 localhost ESMTP scripted");
                while (await ReadLineAsync(reader) is { } line)
                {
                    var verb = line.Split(' ')[0].ToUpperInvariant();
                    if (verb == "DATA")
                    {
                        await writer.WriteLineAsync("354 End data with <CR><LF>.<CR><LF>");
                        while (await reader.ReadLineAsync(_stop.Token) is { } data && data != ".")
                        {
                        }
                        Interlocked.Increment(ref _messages);
                        await writer.WriteLineAsync("250 2.0.0 Ok: queued");
                        continue;
                    }
                    if (verb is "EHLO" or "HELO")
                    {
                        var lines = new[] { "localhost" }.Concat(capabilities).ToArray();
                        for (var i = 0; i < lines.Length; i++)
                        {
                            await writer.WriteLineAsync($"250{(i == lines.Length - 1 ? ' ' : '-')}{lines[i]}");
                        }
                    }
                    else if (verb == "QUIT")
                    {
                        await writer.WriteLineAsync("221 2.0.0 Bye");
                        return;
                    }
                    else if (Reply(line) is { } answer)
                    {
                        await writer.WriteLineAsync(answer);
                    }
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away or the test ended: nothing to answer.
            }
        }
    }

    /// <summary>The next command line; null at the end of the stream or once the session was idle too long.</summary>
    async Task<string?> ReadLineAsync(StreamReader reader)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        if (_closeIdleAfter is { } limit)
        {
            idle.CancelAfter(limit);
        }
        try
        {
            return await reader.ReadLineAsync(idle.Token);
        }
        catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
        {
            return null;   // idle too long: the session ends, silently
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
