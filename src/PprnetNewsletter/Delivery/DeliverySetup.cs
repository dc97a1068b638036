using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Content;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Delivery;

public static class DeliverySetup
{
    /// <summary>Delivery ledger, edition runs, the queue of single emails, the delivery worker that runs every send, SMTP or pickup-directory transport, retries, and the relay's limits shared across processes.</summary>
    public static IHostApplicationBuilder AddDelivery(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<SmtpOptions>(SmtpOptions.Section);
        builder.Services.AddValidatedOptions<DeliveryOptions>(DeliveryOptions.Section);
        builder.Services.AddSingleton<IMailTransport>(sp =>
            sp.GetRequiredService<IOptions<SmtpOptions>>().Value.UsesPickupDirectory
                ? ActivatorUtilities.CreateInstance<PickupDirectoryTransport>(sp)
                : ActivatorUtilities.CreateInstance<SmtpTransport>(sp));
        builder.AddStore<IRelaySlots, SqliteRelaySlots, PgRelaySlots>();
        // The relay's connections and rate, leased from the database: shared by every process that sends.
        builder.Services.AddSingleton<RelayGate>();
        builder.AddStore<IDeliveryStore, SqliteDeliveryStore, PgDeliveryStore>();
        builder.AddStore<IEditionRuns, SqliteEditionRuns, PgEditionRuns>();
        builder.AddStore<IMailQueueStore, SqliteMailQueueStore, PgMailQueueStore>();
        builder.Services.AddSingleton<MailQueue>();
        builder.Services.AddSingleton<MailQueueSender>();
        builder.Services.AddSingleton<DeliveryResilience>();
        builder.Services.AddSingleton<EditionSender>();
        // The owner of every send. The service's host starts it; a verb's host starts no hosted service, so `digest send`
        // and `digest resend` start it themselves (DeliveryWorker.RunAsync).
        builder.Services.AddSingleton<DeliveryWorker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DeliveryWorker>());
        return builder;
    }

    /// <summary>How the delivery worker's job views name a send started from the command line.</summary>
    const string CommandLine = "command line";

    static Argument<string> MonthArgument() => new("month") { Description = "The edition's month, YYYY-MM (e.g. 2023-03)." };

    /// <summary>The verb <c>digest send YYYY-MM [--dry-run]</c>.</summary>
    public static Command SendVerb(this IHost app)
    {
        var month = MonthArgument();
        var dryRun = new Option<bool>("--dry-run") { Description = "Compose every message and count them; send nothing, change nothing." };
        var send = new Command("send", "Send the edition now (the schedule's engine): resumable, and a second run sends nothing.") { month, dryRun };
        send.SetAction((parse, ct) => DeliverAsync(app, parse.GetValue(month)!, parse.GetValue(dryRun) ? "Dry run" : "Send", async progress =>
            parse.GetValue(dryRun)
                // Composes and counts, sends nothing: not a send, so not the worker's (which would also send queued single emails).
                ? await app.Services.GetRequiredService<EditionSender>().DryRunAsync(parse.GetValue(month)!, progress, ct)
                : (await app.Services.GetRequiredService<DeliveryWorker>().RunAsync(
                    DeliveryRequest.Send(parse.GetValue(month)!, CommandLine), progress, ct)).Run!));
        return send;
    }

    /// <summary>The verb <c>digest resend YYYY-MM (--email E | --failed | --new)</c>.</summary>
    public static Command ResendVerb(this IHost app)
    {
        var month = MonthArgument();
        var email = new Option<string>("--email") { Description = "Resend to this one subscriber." };
        var failed = new Option<bool>("--failed") { Description = "Retry every recipient whose delivery failed." };
        var recent = new Option<bool>("--new") { Description = "Send to subscribers confirmed after the edition went out." };
        var resend = new Command("resend", "Resend an edition: to one subscriber, to the failed rows, or to new subscribers.")
        {
            month, email, failed, recent,
        };
        resend.Validators.Add(result =>
        {
            var chosen = (result.GetValue(email) is null ? 0 : 1) + (result.GetValue(failed) ? 1 : 0) + (result.GetValue(recent) ? 1 : 0);
            if (chosen != 1)
            {
                result.AddError("Choose exactly one of --email EMAIL, --failed or --new.");
            }
        });
        resend.SetAction(async (parse, ct) =>
        {
            var request = parse.GetValue(email) is { } address ? new ResendRequest(ResendKind.Email, address)
                : parse.GetValue(failed) ? new ResendRequest(ResendKind.Failed)
                : new ResendRequest(ResendKind.New);
            var left = 0;
            var code = await DeliverAsync(app, parse.GetValue(month)!, "Resend", async progress =>
            {
                var result = await app.Services.GetRequiredService<DeliveryWorker>().RunAsync(
                    DeliveryRequest.ResendOf(parse.GetValue(month)!, request, CommandLine), progress, ct);
                Console.WriteLine($"{Counted.Of(result.Queued, "message")} queued for resending.");
                left = result.LeftFailed;
                return result.Run!;
            });
            if (left > 0)
            {
                Console.WriteLine($"{Counted.Of(left, "failed row")} left as they are: their subscriber is no longer confirmed.");
            }
            return code;
        });
        return resend;
    }

    /// <summary>The verb <c>digest status YYYY-MM</c>.</summary>
    public static Command StatusVerb(this IHost app)
    {
        var month = MonthArgument();
        var status = new Command("status", "Counts per delivery state and the commonest failure reasons.") { month };
        status.SetAction(async (parse, ct) =>
        {
            await app.Services.GetRequiredService<EditionCheck>().RequireAsync(parse.GetValue(month)!, ct);
            var report = await app.Services.GetRequiredService<EditionSender>().StatusAsync(parse.GetValue(month)!, ct);
            var c = CultureInfo.InvariantCulture;
            Console.WriteLine($"Edition {report.Month}: {report.Status}, {Counted.Of(report.SummaryCount, "summary", "summaries")}");
            if (report.SendStartedAt is { } started)
            {
                Console.WriteLine(string.Create(c, $"  send started {started:u}{(report.SentAt is { } sent ? $", finished {sent:u}" : "")}"));
            }
            foreach (var (state, count) in report.Counts)
            {
                Console.WriteLine(string.Create(c, $"  {state,-9} {count,10:N0}"));
            }
            if (report.TopReasons.Count > 0)
            {
                Console.WriteLine("Most common reasons:");
                foreach (var r in report.TopReasons)
                {
                    Console.WriteLine(string.Create(c, $"  {r.Count,8:N0}  {r.State,-8}  {r.Reason}{(r.Example is null || r.Example == r.Reason ? "" : $"  (e.g. \"{r.Example}\")")}"));
                }
            }
            if (report.Note is not null)
            {
                Console.WriteLine($"Note: {report.Note}");
            }
            return ExitCodes.Success;
        });
        return status;
    }

    /// <summary>Runs a send with the progress line on stderr, prints the summary; a halted send exits 1 with its reason.</summary>
    static async Task<int> DeliverAsync(IHost app, string month, string what, Func<IProgress<SendProgress>, Task<SendResult>> run)
    {
        // Checked before the progress line starts, so a wrong month gets its message alone.
        await app.Services.GetRequiredService<EditionCheck>().RequireAsync(month, CancellationToken.None);
        var progress = ConsoleSendProgress.ForStandardError(app.Services.GetRequiredService<TimeProvider>());
        SendResult result;
        try
        {
            result = await run(progress);
        }
        catch (DeliveryHaltedException e)
        {
            progress.Complete();
            await Console.Error.WriteLineAsync(e.Message);
            return ExitCodes.Failure;
        }
        progress.Complete();
        if (what == "Dry run")
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Dry run {result.Month}: {result.Sent:N0} would be sent, {result.Skipped:N0} skipped (nothing matches their topics). Nothing was sent."));
            return ExitCodes.Success;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what} {result.Month}: {result.Sent:N0} sent, {result.Failed:N0} failed, {result.Deferred:N0} deferred, {result.Skipped:N0} skipped in {result.Elapsed.TotalSeconds:N1} s."));
        if (result.NextRetryAt is { } next)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Deferred rows are retried from {next:u} (by the service, or run this again)."));
        }
        if (result.EditionSent)
        {
            Console.WriteLine($"The {result.Month} edition is complete.");
        }
        if (result.StoppedBecause is { } why)
        {
            Console.WriteLine($"Stopped: {why}. Run it again to resume.");
            return ExitCodes.Failure;
        }
        // Success means nothing is left to do now: no row pending, in flight or due (deferred rows not yet due are said above).
        if (result.Left > 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Not finished: {result.Left:N0} row(s) still pending, in flight or due (see 'digest status {result.Month}'); run it again, or let the service finish them."));
            return ExitCodes.Failure;
        }
        return ExitCodes.Success;
    }
}
