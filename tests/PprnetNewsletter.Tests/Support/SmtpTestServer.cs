using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using MimeKit;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.IO;
using SmtpServer.Mail;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace PprnetNewsletter.Tests.Support;

/// <summary>A message the test server accepted (replied 250 to), parsed and as its octets arrived (dots un-doubled).</summary>
public sealed record ReceivedMessage(string From, IReadOnlyList<string> To, MimeMessage Message, byte[] Raw);

/// <summary>A scripted failure for one recipient's next attempt.</summary>
public sealed record SmtpFault(SmtpFaultStage Stage, int Code = 0, string Text = "")
{
    /// <summary>Refuse the recipient at RCPT TO, e.g. 550 "5.1.1 No such user".</summary>
    public static SmtpFault AtRcpt(int code, string text) => new(SmtpFaultStage.Rcpt, code, text);

    /// <summary>Read the whole message, then reply with this instead of 250, e.g. 451 "4.3.0 Try again later".</summary>
    public static SmtpFault AfterData(int code, string text) => new(SmtpFaultStage.AfterData, code, text);

    /// <summary>Read the whole message, then reset the connection before any reply.</summary>
    public static SmtpFault Drop { get; } = new(SmtpFaultStage.Drop);
}

public enum SmtpFaultStage
{
    Rcpt,
    AfterData,
    Drop,
}

/// <summary>
/// A real SMTP server on 127.0.0.1 (the SmtpServer package, in process) for tests: it records what it accepts and
/// fails on purpose when scripted to — per recipient at RCPT or after DATA, a dropped connection, the whole server
/// "down" (connections reset at once), or authentication required. Its sockets have Nagle off, like the client's:
/// otherwise every reply waits ~40 ms for a delayed ACK. SessionTimeout is a session's whole lifetime in this
/// package, so it is set long enough for pooled connections to outlive a test.
/// </summary>
public sealed class SmtpTestServer : IAsyncDisposable
{
    readonly ConcurrentQueue<ReceivedMessage> _received = new();
    readonly ConcurrentDictionary<string, ConcurrentQueue<SmtpFault>> _scripts = new(StringComparer.OrdinalIgnoreCase);
    readonly CancellationTokenSource _stop = new();
    readonly NoDelayListenerFactory _listeners;
    readonly Task _running;
    int _sessions;
    int _open;
    int _mostOpen;

    SmtpTestServer((string User, string Password)? credentials)
    {
        _listeners = new NoDelayListenerFactory(this);
        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(e =>
            {
                e.Endpoint(new IPEndPoint(IPAddress.Loopback, 0)).SessionTimeout(TimeSpan.FromMinutes(10));
                if (credentials is not null)
                {
                    e.AuthenticationRequired().AllowUnsecureAuthentication();
                }
            })
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(_listeners);
        services.Add(new Store(this));
        services.Add(new Filter(this));
        if (credentials is { } c)
        {
            services.Add(new DelegatingUserAuthenticator((user, password) => user == c.User && password == c.Password));
        }
        _running = new SmtpServer.SmtpServer(options, services).StartAsync(_stop.Token);
    }

    /// <summary>Starts a server on a free loopback port; with <paramref name="credentials"/>, AUTH is required.</summary>
    public static async Task<SmtpTestServer> StartAsync((string User, string Password)? credentials = null)
    {
        var server = new SmtpTestServer(credentials);
        server.Port = await server._listeners.Port.Task.WaitAsync(TimeSpan.FromSeconds(10));
        return server;
    }

    public int Port { get; private set; }

    /// <summary>While true, every connection is reset as soon as it is accepted, as if nothing answered.</summary>
    public bool Down { get; set; }

    /// <summary>Connections accepted (and not reset by <see cref="Down"/>) so far.</summary>
    public int Sessions => Volatile.Read(ref _sessions);

    /// <summary>The most connections that were open at one moment (counted from accept to the session's end).</summary>
    public int MostOpen => Volatile.Read(ref _mostOpen);

    void Opened()
    {
        var open = Interlocked.Increment(ref _open);
        int most;
        while (open > (most = Volatile.Read(ref _mostOpen)) && Interlocked.CompareExchange(ref _mostOpen, open, most) != most)
        {
        }
    }

    /// <summary>Called with each message just before the server replies 250 (e.g. to stop a client mid-send).</summary>
    public Action<ReceivedMessage>? BeforeAccept { get; set; }

    public IReadOnlyList<ReceivedMessage> Received => _received.ToArray();

    /// <summary>How many accepted messages each recipient address got.</summary>
    public IReadOnlyDictionary<string, int> CountByRecipient() =>
        _received.SelectMany(m => m.To).GroupBy(a => a, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);

    /// <summary>The next attempts for <paramref name="recipient"/> meet these faults, in order; after them, success.</summary>
    public void Script(string recipient, params SmtpFault[] faults)
    {
        var queue = _scripts.GetOrAdd(recipient, _ => new ConcurrentQueue<SmtpFault>());
        foreach (var fault in faults)
        {
            queue.Enqueue(fault);
        }
    }

    /// <summary>Configuration that points the application at this server.</summary>
    public Dictionary<string, string?> ClientConfig(int connections = 2) => new()
    {
        ["Smtp:Host"] = "127.0.0.1",
        ["Smtp:Port"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Smtp:MaxConnections"] = connections.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    SmtpFault? NextFault(string recipient, SmtpFaultStage stage, bool data)
    {
        if (!_scripts.TryGetValue(recipient, out var queue) || !queue.TryPeek(out var fault))
        {
            return null;
        }
        var applies = data ? fault.Stage != SmtpFaultStage.Rcpt : fault.Stage == stage;
        return applies && queue.TryDequeue(out var taken) ? taken : null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _running.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (OperationCanceledException)
        {
            // The server stops by cancellation.
        }
        catch (TimeoutException)
        {
            // A session stuck on a dead client: the listener is closed anyway.
        }
        _listeners.Dispose();
        _stop.Dispose();
    }

    const string SocketKey = "SmtpTestServer:Socket";

    sealed class Store(SmtpTestServer server) : IMessageStore
    {
        public async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction,
            ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            var to = transaction.To.Select(m => m.AsAddress()).ToList();
            foreach (var recipient in to)
            {
                switch (server.NextFault(recipient, SmtpFaultStage.AfterData, data: true))
                {
                    case { Stage: SmtpFaultStage.Drop }:
                        var socket = (Socket)context.Properties[SocketKey];
                        // Linger 0: close with a reset, so the client sees the connection drop, not a polite end.
                        socket.LingerState = new LingerOption(true, 0);
                        socket.Close();
                        throw new IOException("connection dropped by the test script");
                    case { } fault:
                        return new SmtpResponse((SmtpReplyCode)fault.Code, fault.Text);
                }
            }
            var raw = buffer.ToArray();
            await using var stream = new MemoryStream(raw);
            var message = await MimeMessage.LoadAsync(stream, cancellationToken);
            var received = new ReceivedMessage(transaction.From.AsAddress(), to, message, raw);
            server.BeforeAccept?.Invoke(received);
            server._received.Enqueue(received);
            return SmtpResponse.Ok;
        }
    }

    sealed class Filter(SmtpTestServer server) : IMailboxFilter
    {
        public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken) =>
            Task.FromResult(true);

        public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken) =>
            server.NextFault(to.AsAddress(), SmtpFaultStage.Rcpt, data: false) is { } fault
                ? throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)fault.Code, fault.Text))
                : Task.FromResult(true);
    }

    sealed class NoDelayListenerFactory(SmtpTestServer server) : IEndpointListenerFactory, IDisposable
    {
        readonly List<TcpListener> _listeners = [];

        public TaskCompletionSource<int> Port { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
        {
            var listener = new TcpListener(endpointDefinition.Endpoint);
            listener.Start();
            lock (_listeners)
            {
                _listeners.Add(listener);
            }
            Port.TrySetResult(((IPEndPoint)listener.LocalEndpoint).Port);
            return new Listener(server, listener);
        }

        public void Dispose()
        {
            lock (_listeners)
            {
                _listeners.ForEach(l => l.Stop());
            }
        }
    }

    sealed class Listener(SmtpTestServer server, TcpListener listener) : IEndpointListener
    {
        public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
        {
            while (true)
            {
                var socket = await listener.AcceptSocketAsync(cancellationToken);
                if (server.Down)
                {
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Close();
                    continue;
                }
                socket.NoDelay = true;
                Interlocked.Increment(ref server._sessions);
                server.Opened();
                context.Properties[SocketKey] = socket;
                return new Pipe(new NetworkStream(socket, ownsSocket: true), () => Interlocked.Decrement(ref server._open));
            }
        }

        public void Dispose() => listener.Stop();
    }

    /// <summary>A duplex pipe over the connection's stream that can switch to TLS (STARTTLS).</summary>
    sealed class Pipe(Stream stream, Action closed) : ISecurableDuplexPipe
    {
        Stream _stream = stream;

        public PipeReader Input { get; private set; } = PipeReader.Create(stream);

        public PipeWriter Output { get; private set; } = PipeWriter.Create(stream);

        public bool IsSecure => _stream is SslStream;

        public SslProtocols SslProtocol => (_stream as SslStream)?.SslProtocol ?? SslProtocols.None;

        public async Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default)
        {
            var ssl = new SslStream(_stream, leaveInnerStreamOpen: true);
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = certificate,
                EnabledSslProtocols = protocols,
            }, cancellationToken);
            _stream = ssl;
            Input = PipeReader.Create(ssl);
            Output = PipeWriter.Create(ssl);
        }

        int _disposed;

        public void Dispose()
        {
            _stream.Dispose();
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                closed();
            }
        }
    }
}
