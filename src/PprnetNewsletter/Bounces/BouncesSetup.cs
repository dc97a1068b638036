using System.CommandLine;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Bounces;

public static class BouncesSetup
{
    /// <summary>VERP addresses, the bounce mailbox reader, the report store (the service polls it: Scheduling).</summary>
    public static IHostApplicationBuilder AddBounces(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<BouncesOptions>(BouncesOptions.Section);
        builder.Services.AddSingleton<VerpAddresses>();
        builder.Services.AddSingleton<BounceClassifier>();
        builder.AddStore<IBounceStore, SqliteBounceStore, PgBounceStore>();
        builder.Services.AddSingleton<BounceHandler>();
        builder.Services.AddSingleton<BounceMailbox>();
        builder.Services.AddSingleton<WebhookKeys>();
        builder.Services.AddSingleton<MailgunTokens>();
        return builder;
    }

    /// <summary>The verb <c>bounces poll</c>: one pass over the bounce mailbox, with counts per kind.</summary>
    public static Command BouncesVerb(this IHost app)
    {
        var poll = new Command("poll", "Read the bounce mailbox once (Bounces:Imap:*) and print what was found, per kind.");
        poll.SetAction(async (_, ct) =>
        {
            var mailbox = app.Services.GetRequiredService<BounceMailbox>();
            if (!mailbox.Enabled)
            {
                throw new UsageException("No bounce mailbox is configured: set Bounces:Imap:Host, Bounces:Imap:Username and " +
                    "Bounces:Imap:Password (e.g. PPRNET_Bounces__Imap__Host=imap.example.org).");
            }
            var counts = await mailbox.PollAsync(ct);
            foreach (var (kind, count) in counts.ByKind)
            {
                Console.WriteLine($"{BounceKindLabel(kind),-14} {count}");
            }
            Console.WriteLine($"{"errors",-14} {counts.Errors}");
            if (counts.Replays > 0)
            {
                Console.WriteLine($"({counts.Replays} of them read before: nothing done again)");
            }
            return counts.Errors == 0 ? ExitCodes.Success : ExitCodes.Failure;
        });
        return new Command("bounces", "Bounces, complaints and mailto unsubscribes.") { poll };
    }

    static string BounceKindLabel(ReportKind kind) =>
        kind == ReportKind.Unrecognised ? "unrecognised" : IBounceStore.KindName(kind);
}
