using System.CommandLine;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;
using Quartz;

namespace PprnetNewsletter.Bounces;

public static class BouncesSetup
{
    /// <summary>VERP addresses, the bounce mailbox reader and its poll, the report store.</summary>
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
        builder.Services.AddQuartz(q =>
        {
            var poll = new JobKey("bounce-mailbox");
            q.AddJob<BounceMailboxJob>(j => j.WithIdentity(poll));
            q.AddTrigger((sp, t) => t.ForJob(poll).WithIdentity("bounce-mailbox").StartNow()
                .WithSchedule(SimpleScheduleBuilder.Create()
                    .WithInterval(sp.GetRequiredService<IOptions<BouncesOptions>>().Value.PollInterval)
                    .RepeatForever()));
        });
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

/// <summary>Every Bounces:PollInterval, one pass over the bounce mailbox (when one is configured).</summary>
[DisallowConcurrentExecution]
public sealed class BounceMailboxJob(BounceMailbox mailbox, ILogger<BounceMailboxJob> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        if (!mailbox.Enabled)
        {
            return;
        }
        try
        {
            var counts = await mailbox.PollAsync(cancellationToken);
            if (counts.Total > 0)
            {
                logger.LogInformation("Bounce mailbox: {Counts}, {Errors} error(s)",
                    string.Join(", ", counts.ByKind.Where(c => c.Value > 0).Select(c => $"{c.Value} {c.Key}")), counts.Errors);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The mailbox may be down for a while: the next pass tries again, and the log says why this one failed.
            logger.LogError(e, "Reading the bounce mailbox failed");
        }
    }
}
