using System.CommandLine;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;
using ReasonPhrases = Microsoft.AspNetCore.WebUtilities.ReasonPhrases;

namespace PprnetNewsletter.Web;

public static class WebSetup
{
    /// <summary>Rate-limiter policy of the subscribe form.</summary>
    public const string SubscribePolicy = "subscribe";

    /// <summary>Rate-limiter policy of every page reached through a token (confirm, preferences, unsubscribe).</summary>
    public const string TokenPolicy = "token";

    /// <summary>The largest request body accepted, unless an endpoint says otherwise (the CSV import does).</summary>
    public const long MaxRequestBodyBytes = 256 * 1024;

    /// <summary>Kestrel on Web:Urls, and what the public pages need.</summary>
    public static WebApplicationBuilder AddWeb(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<WebOptions>(WebOptions.Section);
        var urls = builder.Configuration[$"{WebOptions.Section}:{nameof(WebOptions.Urls)}"];
        builder.WebHost.UseUrls(string.IsNullOrWhiteSpace(urls) ? new WebOptions().Urls : urls);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
        });
        builder.Services.Configure<FormOptions>(form =>
        {
            form.ValueCountLimit = 200;             // the subscribe form has under 50 fields
            form.ValueLengthLimit = 16 * 1024;
            form.KeyLengthLimit = 200;
        });
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<WebOptions>>((forwarded, web) =>
            TrustedProxies.Configure(forwarded, web.Value.TrustedProxyEntries));

        // Antiforgery tokens are protected with keys that outlive the process, so a restart does not void the forms
        // open in visitors' browsers: in a folder beside the SQLite file, or, with PostgreSQL, in the database that
        // every instance shares, so a form rendered by one instance posts to any other.
        builder.Services.AddDataProtection().SetApplicationName("pprnet");
        var postgres = builder.Provider() == StorageProvider.Postgres;
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((keys, services) =>
            keys.XmlRepository = postgres
                ? ActivatorUtilities.CreateInstance<PgKeyRing>(services)
                : new FileSystemXmlRepository(
                    new DirectoryInfo(Path.Combine(DataFolder.Of(services), "keys")),
                    services.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = "pprnet-antiforgery";
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            // Secure whenever the request is https, as seen through a trusted proxy's X-Forwarded-Proto too.
            antiforgery.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            antiforgery.FormFieldName = "__antiforgery";
        });
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(SubscribePolicy, context => PerClientAddress(context, o => o.SubscribeLimitPerMinute));
            limiter.AddPolicy(TokenPolicy, context => PerClientAddress(context, o => o.TokenLimitPerMinute));
            limiter.OnRejected = async (rejected, _) =>
            {
                if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    rejected.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString();
                }
                await ErrorResponses.WriteAsync(rejected.HttpContext, StatusCodes.Status429TooManyRequests,
                    "Too many requests", "Too many requests from your address. Please wait a minute and try again.");
            };
        });
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<WebExceptionHandler>();
        builder.Services.AddSingleton<PageRenderer>();
        builder.Services.AddSingleton<SubscriptionMail>();
        builder.Services.AddHostedService<PageCompiler>();
        return builder;
    }

    static RateLimitPartition<string> PerClientAddress(HttpContext context, Func<WebOptions, int> permitsPerMinute)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<WebOptions>>().Value;
        return RateLimitPartition.GetFixedWindowLimiter(
            context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            _ => new FixedWindowRateLimiterOptions { PermitLimit = permitsPerMinute(options), Window = TimeSpan.FromMinutes(1) });
    }

    /// <summary>
    /// What runs before every endpoint: client address from a local reverse proxy, errors as pages or
    /// ProblemDetails, security headers, per-address rate limits.
    /// </summary>
    public static WebApplication UseWebHardening(this WebApplication app)
    {
        // HEAD becomes GET before routing picks the endpoint, so routing is placed explicitly after it.
        app.UseHeadAsGet();
        app.UseRouting();
        app.UseForwardedHeaders();
        app.UseSecurityHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages(context => ErrorResponses.WriteAsync(context.HttpContext, context.HttpContext.Response.StatusCode,
            ReasonPhrases.GetReasonPhrase(context.HttpContext.Response.StatusCode), StatusDetail(context.HttpContext.Response.StatusCode)));
        app.UseRequestCharsetCheck();
        app.UseRateLimiter();
        return app;
    }

    static string StatusDetail(int statusCode) => statusCode switch
    {
        StatusCodes.Status404NotFound => "There is no page at this address. Check the link, or start from the home page.",
        StatusCodes.Status405MethodNotAllowed => "This address does not accept that kind of request.",
        _ => "The request could not be completed.",
    };

    /// <summary>The public pages: subscribe, confirm, preferences, one-click unsubscribe, archive, the style sheet.</summary>
    public static WebApplication MapWebPages(this WebApplication app)
    {
        app.MapGet("/site.css", (PageRenderer pages) => Results.File(Path.Combine(pages.Folder, "site.css"), "text/css; charset=utf-8"))
            .ExcludeFromDescription();
        app.MapSubscribePages();
        app.MapPreferencePages();
        app.MapLessOfPages();
        app.MapUnsubscribePages();
        app.MapArchivePages();
        return app;
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
    public static Command ServeVerb(this IHost app)
    {
        var serve = new Command("serve", "Run the service: monthly schedule, web pages and admin API (the default).");
        serve.SetAction((_, ct) => RunServiceAsync(app, ct));
        return serve;
    }

    public static async Task<int> RunServiceAsync(IHost host, CancellationToken ct)
    {
        // Program builds the web application whenever the arguments ask for the service (Cli.IsServe).
        var app = host as WebApplication ?? throw new InvalidOperationException("The service runs on the web application, not on a verb's host.");
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PprnetNewsletter");
        logger.LogInformation("Starting: database, first-start import, templates…");
        await app.StartAsync(ct);
        foreach (var line in NextSteps.For(app.Services, app.ListeningAddresses()))
        {
            logger.LogInformation("{Line}", line);
        }
        foreach (var warning in StartupWarnings.For(app.Services, app.ListeningAddresses()))
        {
            logger.LogWarning("{Warning}", warning);
        }
        await app.WaitForShutdownAsync(ct);
        return ExitCodes.Success;
    }
}
