using System.Globalization;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Web;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>
/// /admin and /admin/editions/{month}: every edition with its ledger bar; preview, test send, send (after a confirmation
/// step) and the three resends. Sends are jobs of the <see cref="DeliveryWorker"/>, like those of the admin API, the
/// schedule and the command line, so they all send alike.
/// </summary>
public static class EditionPages
{
    /// <summary>How the delivery worker's job views name a send started here.</summary>
    const string StartedBy = "dashboard";

    static readonly Dictionary<string, string> Notices = new()
    {
        ["started"] = "The send has started. The bar follows it.",
        ["resend"] = "The resend has started. The bar follows it.",
        ["running"] = "A send or resend of this edition is already running: wait for it to finish.",
        ["test"] = "The test message is sent.",
    };

    public static RouteGroupBuilder MapEditionPages(this RouteGroupBuilder admin)
    {
        admin.MapGet("/", async (string? done, IContentStore content, EditionSender sender, DeliveryWorker jobs, CancellationToken ct) =>
        {
            var cards = new List<EditionCard>();
            foreach (var edition in await content.ListEditionsAsync(ct))
            {
                cards.Add(await CardAsync(edition.Month, content, sender, jobs, ct));
            }
            return AdminPages.Show("editions", new EditionsPage { Title = "Editions", Editions = cards, Notice = Notices.GetValueOrDefault(done ?? "") });
        });

        var edition = admin.MapGroup("/editions/{month}");

        edition.MapGet("/", async (string month, string? done, IContentStore content, EditionSender sender, DeliveryWorker jobs, IAdminQueries ledger,
            IDashboardQueries queries, CancellationToken ct) =>
        {
            if (!await ExistsAsync(content, month, ct))
            {
                return NoEdition(month);
            }
            var card = await CardAsync(month, content, sender, jobs, ct);
            var status = await sender.StatusAsync(month, ct);
            var problems = new List<ProblemRecipient>();
            foreach (var state in new[] { DeliveryState.Failed, DeliveryState.Deferred })
            {
                problems.AddRange((await ledger.DeliveriesAsync(month, state, 0, 200, ct)).Select(r =>
                    new ProblemRecipient(r.SubscriberId, r.Email, r.State, r.SmtpReply ?? r.LastError, r.UpdatedAt)));
            }
            return AdminPages.Show("edition", new EditionPage
            {
                Title = card.MonthName,
                Edition = card with { Live = true },
                TopReasons = status.TopReasons,
                Problems = problems,
                RateChart = RateChart(await queries.SentPerMinuteAsync(month, ct)),
                NextRetryAt = status.NextRetryAt,
                Notice = Notices.GetValueOrDefault(done ?? ""),
            });
        });

        edition.MapGet("/progress", LiveProgress.StreamAsync);

        edition.MapGet("/preview", async (string month, string? email, IContentStore content, EditionMessageFactory factory,
            ISubscriberStore subscribers, CancellationToken ct) =>
        {
            if (await content.GetEditionAsync(month, ct) is not { } found)
            {
                return NoEdition(month);
            }
            // The page checks that there is a digest to show; the frame then loads it from preview.html.
            var problem = string.IsNullOrWhiteSpace(email) ? null : (await ComposeForAsync(month, email, factory, subscribers, ct)).Problem;
            return AdminPages.Show("preview", new PreviewPage
            {
                Title = $"Preview of {found.MonthName}",
                Month = month,
                MonthName = found.MonthName,
                Email = email ?? "",
                Problem = problem,
                FrameSource = string.IsNullOrWhiteSpace(email) || problem is not null
                    ? null : $"/admin/editions/{month}/preview.html?email={Uri.EscapeDataString(email)}",
            }, problem is null ? StatusCodes.Status200OK : StatusCodes.Status404NotFound);
        });

        edition.MapGet("/preview.html", async (string month, string? email, HttpContext http, EditionMessageFactory factory,
            ISubscriberStore subscribers, CancellationToken ct) =>
        {
            var (message, problem) = await ComposeForAsync(month, email ?? "", factory, subscribers, ct);
            if (message is null)
            {
                return Results.NotFound(problem);
            }
            // The email's HTML as sent, shown in a sandboxed frame of the dashboard: its inline styles are allowed, no
            // script, and only the dashboard itself may frame it.
            http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'; sandbox";
            http.Response.Headers.XFrameOptions = "SAMEORIGIN";
            return Results.Content(message.HtmlBody ?? "", "text/html; charset=utf-8");
        });

        edition.MapPost("/test-send", async (string month, HttpContext http, EditionMessageFactory factory, ISubscriberStore subscribers,
            MessageAssembly assembly, MailQueue queue, AuditLog audit, CancellationToken ct) =>
        {
            var form = await WebForms.ReadAsync(http);
            if (!EmailAddressRules.TryNormalize(form["to"].ToString(), out var to, out var problem))
            {
                return AdminPages.Message(StatusCodes.Status400BadRequest, "Test send", $"The address to send the test to is not valid: {problem}.");
            }
            var asEmail = form["as"].ToString().Trim();
            Subscriber? like = null;
            if (asEmail.Length > 0 && (like = await subscribers.FindByEmailAsync(asEmail, ct)) is null)
            {
                return AdminPages.Message(StatusCodes.Status404NotFound, "Test send", $"No subscriber has the address '{EmailAddressRules.Printable(asEmail)}'.");
            }
            if (await factory.PrepareAsync(month, ct) is not { } messages)
            {
                return NoEdition(month);
            }
            if (EditionEndpoints.TestMessage(messages, like, to, assembly) is not { } message)
            {
                return AdminPages.Message(StatusCodes.Status400BadRequest, "Test send", $"{like?.Email} has no summary on their topics in {month}: there is nothing to send.");
            }
            // Through the durable queue, like the API's test send: a relay that blinks delays it, nothing loses it.
            await queue.EnqueueAsync("test-send", message, ct);
            await audit.RecordAsync(http, "test send", $"{month} to {to}" + (like is null ? "" : $" as {like.Email}"));
            return Results.Redirect($"/admin/editions/{month}?done=test");
        });

        edition.MapGet("/send", async (string month, IContentStore content, ISubscriberStore subscribers, EditionSender sender, CancellationToken ct) =>
        {
            if (await content.GetEditionAsync(month, ct) is not { } found)
            {
                return NoEdition(month);
            }
            if (found.Summaries.Count == 0)
            {
                return AdminPages.Message(StatusCodes.Status400BadRequest, "Nothing to send", $"The {month} edition has no summaries. Add them first.");
            }
            var status = await sender.StatusAsync(month, ct);
            var explanation = found.Status == EditionStatus.Draft
                ? $"{found.MonthName} will be sent now to {Count(await subscribers.CountAsync(new SubscriberFilter(null, SubscriberStatus.Confirmed), ct), "confirmed subscriber")} "
                  + "(each gets the summaries on their topics; those with none of this month's topics get nothing). Its summaries can no longer change once sending starts."
                : $"{found.MonthName} has started already: this resumes it for the {Count(new LedgerProgress(status.Counts).Count(DeliveryState.Pending), "recipient")} still pending.";
            return AdminPages.Show("confirm", new ConfirmPage
            {
                Title = $"Send {found.MonthName}?",
                Month = month,
                Heading = $"Send {found.MonthName}?",
                Explanation = explanation,
                Action = $"/admin/editions/{month}/send",
                Button = "Yes, send it now",
                CancelHref = $"/admin/editions/{month}",
            });
        });

        edition.MapPost("/send", async (string month, HttpContext http, IContentStore content, DeliveryWorker jobs, AuditLog audit, CancellationToken ct) =>
        {
            await WebForms.ReadAsync(http);
            if (await content.GetEditionAsync(month, ct) is not { Summaries.Count: > 0 })
            {
                return NoEdition(month);
            }
            var started = jobs.TryStart(DeliveryRequest.Send(month, StartedBy)) is not null;
            await audit.RecordAsync(http, "send", month + (started ? "" : " (refused: already running)"));
            return Results.Redirect($"/admin/editions/{month}?done={(started ? "started" : "running")}");
        });

        edition.MapPost("/resend", async (string month, HttpContext http, IContentStore content, ISubscriberStore subscribers, DeliveryWorker jobs,
            AuditLog audit, CancellationToken ct) =>
        {
            var form = await WebForms.ReadAsync(http);
            var kind = form["kind"].ToString();
            var email = form["email"].ToString().Trim();
            ResendRequest? request = kind switch
            {
                "failed" => new ResendRequest(ResendKind.Failed),
                "new" => new ResendRequest(ResendKind.New),
                "email" => new ResendRequest(ResendKind.Email, email),
                _ => null,
            };
            if (request is null)
            {
                return AdminPages.Message(StatusCodes.Status400BadRequest, "Resend", "Choose a resend: to failed recipients, to new subscribers, or to one address.");
            }
            if (await content.GetEditionAsync(month, ct) is not { Summaries.Count: > 0 })
            {
                return NoEdition(month);
            }
            if (request.Kind == ResendKind.Email && await subscribers.FindByEmailAsync(email, ct) is null)
            {
                return AdminPages.Message(StatusCodes.Status404NotFound, "Resend", $"No subscriber has the address '{EmailAddressRules.Printable(email)}'.");
            }
            var started = jobs.TryStart(DeliveryRequest.ResendOf(month, request, StartedBy)) is not null;
            var what = request.Kind == ResendKind.Email ? $"to {email}" : kind;
            await audit.RecordAsync(http, "resend", $"{month} {what}" + (started ? "" : " (refused: already running)"));
            return Results.Redirect($"/admin/editions/{month}?done={(started ? "resend" : "running")}");
        });

        return admin;
    }

    internal static async Task<EditionCard> CardAsync(string month, IContentStore content, EditionSender sender, DeliveryWorker jobs, CancellationToken ct)
    {
        var edition = (await content.GetEditionAsync(month, ct))!;
        var status = await sender.StatusAsync(month, ct);
        return new EditionCard(month, edition.MonthName, edition.Status, edition.Summaries.Count, Lines(edition),
            new LedgerProgress(status.Counts), status.Note, jobs.Last(month));
    }

    internal static IReadOnlyList<EditionSummaryLine> Lines(Edition edition) =>
        edition.Summaries.Select(s => new EditionSummaryLine(s.Slug, s.Title, s.Topics.Select(t => t.Name).ToList())).ToList();

    /// <summary>The digest a subscriber gets, or why there is none.</summary>
    static async Task<(MimeKit.MimeMessage? Message, string? Problem)> ComposeForAsync(string month, string email, EditionMessageFactory factory,
        ISubscriberStore subscribers, CancellationToken ct)
    {
        if (await subscribers.FindByEmailAsync(email, ct) is not { } subscriber)
        {
            return (null, $"No subscriber has the address '{EmailAddressRules.Printable(email)}'.");
        }
        if (await factory.PrepareAsync(month, ct) is not { } messages)
        {
            return (null, $"There is no {month} edition.");
        }
        var message = messages.Compose(EditionEndpoints.RecipientOf(subscriber, subscriber.Id, subscriber.Email), resendCount: 0);
        return message is null ? (null, $"{subscriber.Email} has no summary on their topics in {month}: no digest would be sent.") : (message, null);
    }

    /// <summary>Sent messages per minute from the first to the last, minutes without any drawn as zero.</summary>
    static string RateChart(IReadOnlyList<MinuteCount> minutes)
    {
        if (minutes.Count == 0)
        {
            return "";
        }
        var first = DateTime.ParseExact(minutes[0].Minute, "yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture);
        var last = DateTime.ParseExact(minutes[^1].Minute, "yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture);
        var byMinute = minutes.ToDictionary(m => m.Minute, m => m.Count);
        var points = new List<(string, long)>();
        // A resend weeks later would make a very wide chart of zeros: show at most the last 120 minutes of activity.
        for (var at = last.AddMinutes(-Math.Min(119, (last - first).TotalMinutes)); at <= last; at = at.AddMinutes(1))
        {
            var key = at.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture);
            points.Add((at.ToString("HH:mm", CultureInfo.InvariantCulture), byMinute.GetValueOrDefault(key)));
        }
        return Charts.Columns(points, "Messages sent per minute (UTC)", labelEvery: Math.Max(1, points.Count / 12));
    }

    static async Task<bool> ExistsAsync(IContentStore content, string month, CancellationToken ct) =>
        MonthNames.TryParse(month, out _) && await content.GetEditionAsync(month, ct) is not null;

    internal static IResult NoEdition(string month) => AdminPages.Message(StatusCodes.Status404NotFound, "No such edition",
        $"There is no edition for '{month}'. Add its summaries on the Content page first.");

    static string Count(long n, string one) => $"{n} {one}{(n == 1 ? "" : "s")}";
}
