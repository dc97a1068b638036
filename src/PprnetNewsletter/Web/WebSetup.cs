using System.CommandLine;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Web;

public static class WebSetup
{
    /// <summary>Kestrel on Web:Urls, and what the public pages need.</summary>
    public static WebApplicationBuilder AddWeb(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<WebOptions>(WebOptions.Section);
        var urls = builder.Configuration[$"{WebOptions.Section}:{nameof(WebOptions.Urls)}"];
        builder.WebHost.UseUrls(string.IsNullOrWhiteSpace(urls) ? new WebOptions().Urls : urls);
        return builder;
    }

    /// <summary>GET /health: 200 when the database answers.</summary>
    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health");
        return app;
    }

    /// <summary>The addresses Kestrel actually listens on (port 0 becomes a real port once started).</summary>
    public static IReadOnlyCollection<string> ListeningAddresses(this WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    /// <summary>The verb <c>serve</c> (also what runs when no verb is given).</summary>
    public static Command ServeVerb(this WebApplication app)
    {
        var serve = new Command("serve", "Run the service: monthly schedule, web pages and admin API (the default).");
        serve.SetAction((_, ct) => RunServiceAsync(app, ct));
        return serve;
    }

    public static async Task<int> RunServiceAsync(WebApplication app, CancellationToken ct)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PprnetNewsletter");
        await app.StartAsync(ct);
        logger.LogInformation("Database: {Path}", app.Services.GetRequiredService<Db>().Path);
        logger.LogInformation("Mail: {Transport}", app.Services.GetRequiredService<IMailTransport>().Describe());
        logger.LogInformation("Listening on {Urls}. Press Ctrl-C to stop.", string.Join(", ", app.ListeningAddresses()));
        await app.WaitForShutdownAsync(ct);
        return ExitCodes.Success;
    }
}
