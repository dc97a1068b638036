using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Web;

namespace PprnetNewsletter.Tests.Support;

/// <summary>
/// One real application per test: its own folder, its own SQLite file and outbox, the real configuration
/// pipeline with test overrides. Nothing is shared between tests.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    TestApp(WebApplication app, string folder)
    {
        App = app;
        Folder = folder;
    }

    public WebApplication App { get; }

    /// <summary>A fresh folder for this test (database, outbox, anything else it writes).</summary>
    public string Folder { get; }

    public string DatabasePath => Path.Combine(Folder, "pprnet.db");

    public string OutboxPath => Path.Combine(Folder, "outbox");

    /// <summary>The root URL of the started web server (only after <see cref="StartWebAsync"/>).</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public T Get<T>() where T : notnull => App.Services.GetRequiredService<T>();

    /// <summary>Builds and initialises (options validated, database migrated) an app that is not listening.</summary>
    public static async Task<TestApp> CreateAsync(IDictionary<string, string?>? config = null, bool serve = false)
    {
        var folder = Path.Combine(Path.GetTempPath(), "pprnet-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var overrides = new Dictionary<string, string?>
        {
            ["Storage:Database"] = Path.Combine(folder, "pprnet.db"),
            ["Delivery:PickupDirectory"] = Path.Combine(folder, "outbox"),
            ["Digest:CompiledTemplatesPath"] = Path.Combine(folder, "compiled-templates"),
            ["Web:Urls"] = "http://127.0.0.1:0",
            ["Newsletter:BaseUrl"] = "https://news.example.org",
            // Tests start from an empty database unless they ask for the sample summaries.
            ["Content:FirstStartFolder"] = "",
        };
        foreach (var (key, value) in config ?? new Dictionary<string, string?>())
        {
            overrides[key] = value;
        }
        var app = Program.BuildApp(serve, overrides);
        await app.InitializeAsync();
        return new TestApp(app, folder);
    }

    /// <summary>Starts the real Kestrel server on a free loopback port, hosted services included.</summary>
    public static async Task<TestApp> StartWebAsync(IDictionary<string, string?>? config = null)
    {
        var test = await CreateAsync(config, serve: true);
        await test.App.StartAsync();
        var address = test.App.ListeningAddresses().First();
        test.BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        return test;
    }

    /// <summary>Runs one command line (<c>["digest", "preview", ...]</c>) against this app, as <c>pprnet</c> would.</summary>
    public Task<int> RunCliAsync(params string[] args) => Cli.RunAsync(App, args, Program.Commands(App));

    /// <summary>An HttpClient for the started server that neither follows redirects nor keeps cookies.</summary>
    public HttpClient CreateClient() =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = BaseAddress };

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a background task: the temp folder is cleaned by the OS later.
        }
    }
}
