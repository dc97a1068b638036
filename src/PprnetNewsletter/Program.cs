using System.CommandLine;
using PprnetNewsletter.Admin;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Scheduling;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Web;

namespace PprnetNewsletter;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        await using var app = BuildApp(serve: Cli.IsServe(args));

        var root = new RootCommand("PPRNet Newsletter: monthly research digests personalised to each clinician's topics.")
        {
            app.ServeVerb(),            // serve (default): schedule + web pages + admin API
        };
        foreach (var verb in app.ContentVerbs())    // topics, import
        {
            root.Subcommands.Add(verb);
        }
        root.Subcommands.Add(app.SubscriberVerbs());  // subscribers add | list | import | export
        var digest = app.DigestVerbs();             // digest preview
        foreach (var verb in app.DeliveryVerbs())   // digest send | resend | status
        {
            digest.Subcommands.Add(verb);
        }
        root.Subcommands.Add(digest);
        root.Subcommands.Add(new Command("bench", "Measure the hot paths on this machine.")
        {
            app.DigestBenchVerb(),                  // bench digest: selection + render + MIME per digest
            app.SendBenchVerb(),                    // bench send: enqueue + send to smtp-sink, vs smtp-source and bare MailKit
        });
        root.SetAction((_, ct) => WebSetup.RunServiceAsync(app, ct));

        return await Cli.RunAsync(app, args, root);
    }

    /// <summary>The whole application, as the service, every verb and every test build it.</summary>
    public static WebApplication BuildApp(bool serve = true, IDictionary<string, string?>? overrides = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppHome.Locate() });

        builder.AddNewsletterConfiguration(overrides);  // config/appsettings.json + PPRNET_ environment variables
        builder.AddNewsletterLogging(serve);            // console: Information for the service, warnings for verbs
        builder.AddStorage();                           // SQLite file, migrations
        builder.AddContent();                           // taxonomy, summaries, editions, Markdown import
        builder.AddSubscribers();                       // subscribers, topic preferences, consent ledger
        builder.AddDigests();                           // selection, Razor templates, MIME, tokens, DKIM
        builder.AddDelivery();                          // ledger, SMTP pool or pickup directory, retries
        builder.AddScheduling();                        // Quartz: monthly edition, deferred retries
        builder.AddWeb();                               // Kestrel on Web:Urls, public pages
        builder.AddAdmin();                             // admin API credential

        var app = builder.Build();

        app.UseWebHardening();                          // errors as pages/ProblemDetails, security headers, rate limits
        app.MapHealth();                                // GET /health
        app.MapWebPages();                              // subscribe, confirm, preferences, one-click unsubscribe, archive
        app.MapAdminApi();                              // /admin/api behind the bearer key, /openapi/v1.json
        return app;
    }
}
