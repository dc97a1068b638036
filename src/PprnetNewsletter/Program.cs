using System.CommandLine;
using PprnetNewsletter.Admin;
using PprnetNewsletter.Admin.Dashboard;
using PprnetNewsletter.Bounces;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Observability;
using PprnetNewsletter.Scheduling;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Web;

namespace PprnetNewsletter;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // The service needs the web stack and the schedule; a one-off verb runs on a plain .NET host, which leaves
        // Kestrel, the web host, the admin API's OpenAPI and Quartz unloaded: a send's process is ~18 MB smaller.
        var app = Cli.IsServe(args) ? BuildApp() : BuildVerbHost();
        await using (app as IAsyncDisposable)
        {
            return await Cli.RunAsync(app, args, Commands(app));
        }
    }

    /// <summary>The command line: every verb, run against <paramref name="app"/>.</summary>
    public static RootCommand Commands(IHost app)
    {
        var root = new RootCommand("PPRNet Newsletter: monthly research digests personalised to each clinician's topics.")
        {
            app.ServeVerb(),                // serve (the default): schedule + web pages + admin API
            app.TopicsVerb(),               // topics
            app.ImportVerb(),               // import PATH
            app.SubscriberVerbs(),          // subscribers add | list | import | export
            app.AdminVerbs(),               // admins add | list | remove: the dashboard's accounts
            new Command("digest", "Preview, send and resend the monthly digests.")
            {
                app.PreviewVerb(),          // digest preview YYYY-MM --email EMAIL [--out DIR]
                app.SendVerb(),             // digest send YYYY-MM [--dry-run]
                app.ResendVerb(),           // digest resend YYYY-MM (--email EMAIL | --failed | --new)
                app.StatusVerb(),           // digest status YYYY-MM
            },
            app.BouncesVerb(),              // bounces poll: one pass over the bounce mailbox
            app.DkimVerb(),                 // dkim init --domain D --selector S: a signing key and its DNS records
            app.StorageVerb(),              // storage copy --to CONNECTION: the SQLite database into an empty PostgreSQL one
            app.BackupVerb(),               // backup FILE [--force]: an online copy of the SQLite database
        };
        root.SetAction((_, ct) => WebSetup.RunServiceAsync(app, ct));
        return root;
    }

    /// <summary>The whole application, as the service and every test build it.</summary>
    public static WebApplication BuildApp(bool serve = true, IDictionary<string, string?>? overrides = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppHome.Locate() });
        builder.AddFeatures(serve, overrides);
        builder.AddScheduling();                        // Quartz: monthly edition, deferred retries, bounce mailbox poll
        builder.AddWeb();                               // Kestrel on Web:Urls, public pages
        builder.AddAdmin();                             // admin API credential
        builder.AddDashboard();                         // /admin: cookie sign-in with lockout, pages, live progress
        builder.AddObservability();                     // OpenTelemetry metrics, health of relay, schedule and disk

        var app = builder.Build();

        app.UseWebHardening();                          // errors as pages/ProblemDetails, security headers, rate limits
        app.MapHealth();                                // GET /health
        app.MapWebPages();                              // subscribe, confirm, preferences, one-click unsubscribe, archive
        app.MapAdminApi();                              // /admin/api behind the bearer key, /openapi/v1.json
        app.MapBounceWebhooks();                        // /webhooks/ses, postmark, sendgrid, mailgun: provider bounce events
        app.MapDashboard();                             // /admin behind a signed-in administrator
        app.MapMetrics();                               // GET /metrics (Prometheus) behind the admin key
        return app;
    }

    /// <summary>
    /// Everything but the web pages, the admin API and the schedule, on a plain .NET host: what a one-off verb runs on.
    /// </summary>
    public static IHost BuildVerbHost()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppHome.Locate() });
        builder.AddFeatures(serve: false, overrides: null);
        return builder.Build();
    }

    /// <summary>The features every build of the application has.</summary>
    static void AddFeatures(this IHostApplicationBuilder builder, bool serve, IDictionary<string, string?>? overrides)
    {
        builder.AddNewsletterConfiguration(overrides);  // config/appsettings.json + PPRNET_ environment variables
        builder.AddNewsletterLogging(serve);            // console: Information for the service, warnings for verbs
        builder.AddStorage();                           // SQLite file, migrations
        builder.AddContent();                           // taxonomy, summaries, editions, Markdown import
        builder.AddSubscribers();                       // subscribers, topic preferences, consent ledger
        builder.AddDigests();                           // selection, Razor templates, MIME, tokens, DKIM
        builder.AddDelivery();                          // ledger, SMTP pool or pickup directory, retries
        builder.AddBounces();                           // VERP, bounce mailbox, complaints, mailto unsubscribes
        builder.AddAdminAccounts();                     // administrator accounts and their audit log
    }
}
