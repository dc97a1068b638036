using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MimeKit;

namespace PprnetNewsletter.Tests.Support;

/// <summary>
/// A real IMAP server for tests: Debian's Dovecot, started as its own process from a configuration of its own in a
/// temporary folder, one passwd-file user with Maildir storage, on a free loopback port. As root (CI), Dovecot's
/// auth process runs as the dovecot user: the folder and passwd file are world-readable, and the mail is stored as
/// nobody in a home folder owned by nobody.
/// </summary>
public sealed class DovecotServer : IAsyncDisposable
{
    public const string User = "bounces";

    const string Binary = "/usr/sbin/dovecot";

    readonly Process _process;

    DovecotServer(Process process, string folder, int port, string password)
    {
        _process = process;
        Folder = folder;
        Port = port;
        Password = password;
    }

    public string Folder { get; }

    public int Port { get; }

    public string Password { get; }

    /// <summary>Configuration that points the application's bounce reader at this mailbox.</summary>
    public Dictionary<string, string?> ClientConfig() => new()
    {
        ["Bounces:Imap:Host"] = "127.0.0.1",
        ["Bounces:Imap:Port"] = Port.ToString(CultureInfo.InvariantCulture),
        ["Bounces:Imap:Username"] = User,
        ["Bounces:Imap:Password"] = Password,
    };

    public static async Task<DovecotServer> StartAsync()
    {
        if (OperatingSystem.IsWindows() || !File.Exists(Binary))
        {
            throw new InvalidOperationException($"Dovecot is not installed ({Binary} is missing): apt-get install dovecot-imapd");
        }
        var folder = Path.Combine(Path.GetTempPath(), "pprnet-dovecot-" + Guid.NewGuid().ToString("N")[..12]);
        var home = Path.Combine(folder, "home");
        Directory.CreateDirectory(home);
        Directory.CreateDirectory(Path.Combine(folder, "run"));
        var readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
            | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        File.SetUnixFileMode(folder, readable);
        var (uid, gid) = geteuid() == 0 ? (65534u, 65534u) : (geteuid(), getegid());
        if (chown(home, uid, gid) != 0)
        {
            throw new InvalidOperationException($"chown {home} failed: {Marshal.GetLastPInvokeError()}");
        }
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
        var passwd = Path.Combine(folder, "passwd");
        await File.WriteAllTextAsync(passwd, $"{User}:{{PLAIN}}{password}::::::\n");
        File.SetUnixFileMode(passwd, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        // A port found free can be taken before Dovecot binds it: try a few.
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var config = Path.Combine(folder, "dovecot.conf");
            await File.WriteAllTextAsync(config, $$"""
                base_dir = {{folder}}/run
                state_dir = {{folder}}/run
                protocols = imap
                listen = 127.0.0.1
                ssl = no
                disable_plaintext_auth = no
                auth_mechanisms = plain login
                first_valid_uid = 1
                mail_location = maildir:~/Maildir
                log_path = {{folder}}/dovecot.log
                passdb {
                  driver = passwd-file
                  args = scheme=PLAIN {{passwd}}
                }
                userdb {
                  driver = static
                  args = uid={{uid}} gid={{gid}} home={{home}}
                }
                service imap-login {
                  chroot =
                  inet_listener imap {
                    address = 127.0.0.1
                    port = {{port}}
                  }
                }
                service anvil {
                  chroot =
                }
                """);
            var start = new ProcessStartInfo(Binary) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in new[] { "-c", config, "-F" })
            {
                start.ArgumentList.Add(arg);
            }
            var process = Process.Start(start)!;
            var server = new DovecotServer(process, folder, port, password);
            if (await server.WaitUntilListeningAsync(TimeSpan.FromSeconds(30)))
            {
                return server;
            }
            var log = File.Exists(Path.Combine(folder, "dovecot.log")) ? await File.ReadAllTextAsync(Path.Combine(folder, "dovecot.log")) : "";
            await server.StopAsync();
            if (attempt == 3)
            {
                throw new InvalidOperationException($"Dovecot did not start on 127.0.0.1:{port}: {log}");
            }
        }
    }

    async Task<bool> WaitUntilListeningAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                using var client = new ImapClient();
                await client.ConnectAsync("127.0.0.1", Port, MailKit.Security.SecureSocketOptions.None);
                await client.AuthenticateAsync(User, Password);
                await client.DisconnectAsync(true);
                return true;
            }
            catch (Exception e) when (e is SocketException or IOException or MailKit.Security.AuthenticationException or ImapProtocolException)
            {
                await Task.Delay(100);
            }
        }
        return false;
    }

    /// <summary>Puts <paramref name="raw"/> into <paramref name="folder"/> with IMAP APPEND, as a delivery agent would.</summary>
    public async Task AppendAsync(byte[] raw, string folder = "INBOX")
    {
        using var client = await ConnectAsync();
        var target = await client.GetFolderAsync(folder);
        using var message = MimeMessage.Load(new MemoryStream(raw));
        await target.AppendAsync(message);
        await client.DisconnectAsync(true);
    }

    /// <summary>The messages of each folder (subject lines), and the folders that exist: for asserting where each message went.</summary>
    public async Task<Dictionary<string, List<string>>> ContentsAsync()
    {
        using var client = await ConnectAsync();
        var contents = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var root = client.GetFolder(client.PersonalNamespaces[0]);
        var folders = new List<IMailFolder> { client.Inbox };
        folders.AddRange((await root.GetSubfoldersAsync()).Where(f => !f.FullName.Equals("INBOX", StringComparison.OrdinalIgnoreCase)));
        foreach (var folder in folders)
        {
            await folder.OpenAsync(FolderAccess.ReadOnly);
            var subjects = new List<string>();
            foreach (var uid in await folder.SearchAsync(SearchQuery.All))
            {
                subjects.Add((await folder.GetMessageAsync(uid)).Subject ?? "");
            }
            contents[folder.FullName] = subjects;
            await folder.CloseAsync();
        }
        await client.DisconnectAsync(true);
        return contents;
    }

    async Task<ImapClient> ConnectAsync()
    {
        var client = new ImapClient();
        await client.ConnectAsync("127.0.0.1", Port, MailKit.Security.SecureSocketOptions.None);
        await client.AuthenticateAsync(User, Password);
        return client;
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            // Dovecot's master and the processes it started (login, auth, imap): all ours.
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A process that has not quite exited may hold a file: the temporary folder is cleaned later.
        }
    }

    [DllImport("libc", SetLastError = true)]
    static extern int chown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint owner, uint group);

    [DllImport("libc")]
    static extern uint geteuid();

    [DllImport("libc")]
    static extern uint getegid();
}
