using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Admin;

public sealed record SummaryView(string Slug, string Title, IReadOnlyList<string> Topics);

public sealed record EditionView(EditionStatusReport Delivery, IReadOnlyList<SummaryView> Summaries, SendJobView? LastJob);

/// <summary>A test message: to any address, personalised like the subscriber <c>As</c> (default: all topics).</summary>
public sealed record TestSendInput(string? To, string? As);

public sealed record TestSendView(string To, string Subject, string MessageId);

/// <summary>Which resend: <c>email</c> (with <c>Email</c>), <c>failed</c>, or <c>new</c> (confirmed since the send).</summary>
public sealed record ResendInput(string? Kind, string? Email);

public sealed record StartedView(string Month, string Kind, string Status);

/// <summary>
/// /admin/api/editions: list and detail with delivery counts per state, ledger rows by state, a digest preview,
/// a test send, and the send and three resends, started in the background (202 + the edition's URL).
/// </summary>
public static class EditionEndpoints
{
    /// <summary>
    /// The recipient id of test messages: no subscriber has it, so the unsubscribe and preference links of a test
    /// message open nothing (a test recipient must not be able to unsubscribe the subscriber it imitates).
    /// </summary>
    internal const long TestRecipientId = long.MaxValue;

    /// <summary>How the delivery worker's job views name a send started here.</summary>
    const string StartedBy = "admin API";

    public static RouteGroupBuilder MapEditionEndpoints(this RouteGroupBuilder api)
    {
        var editions = api.MapGroup("/editions").WithTags("Editions");

        editions.MapGet("/", async (IContentStore content, EditionSender sender, CancellationToken ct) =>
        {
            var reports = new List<EditionStatusReport>();
            foreach (var edition in await content.ListEditionsAsync(ct))
            {
                reports.Add(await sender.StatusAsync(edition.Month, ct));
            }
            return TypedResults.Ok(reports);
        }).WithSummary("Every edition, newest first, with its delivery counts per state.");

        editions.MapGet("/{month}", async (string month, IContentStore content, EditionSender sender, DeliveryWorker jobs, CancellationToken ct) =>
        {
            if (await FindAsync(content, month, ct) is not { } edition)
            {
                return NoEdition(month);
            }
            var summaries = edition.Summaries.Select(s => new SummaryView(s.Slug, s.Title, s.Topics.Select(t => t.Slug).ToList())).ToList();
            return Results.Ok(new EditionView(await sender.StatusAsync(month, ct), summaries, jobs.Last(month)));
        }).WithSummary("One edition: summaries, delivery counts per state, common failure reasons, the last send job of this service.")
        .Produces<EditionView>();

        editions.MapGet("/{month}/deliveries", async (string month, string? state, int? offset, int? limit, IContentStore content,
            IAdminQueries queries, CancellationToken ct) =>
        {
            if (state is not null && !DeliveryState.All.Contains(state))
            {
                throw new UsageException($"state must be one of {string.Join(", ", DeliveryState.All)}, not '{state}'.");
            }
            var (from, count) = (offset ?? 0, limit ?? 100);
            if (from < 0 || count is < 1 or > IAdminQueries.MaxPageSize)
            {
                throw new UsageException($"offset must be 0 or more and limit between 1 and {IAdminQueries.MaxPageSize}.");
            }
            if (await FindAsync(content, month, ct) is null)
            {
                return NoEdition(month);
            }
            return Results.Ok(new DeliveryRowsView(month, state, await queries.DeliveriesAsync(month, state, from, count, ct), from, count));
        }).WithSummary("The delivery-ledger rows of an edition, optionally of one state (pending, sending, sent, deferred, failed, skipped).")
        .Produces<DeliveryRowsView>();

        editions.MapGet("/{month}/preview", async (string month, string? email, HttpContext http, EditionMessageFactory factory,
            ISubscriberStore subscribers, CancellationToken ct) =>
        {
            var subscriber = await subscribers.FindByEmailAsync(email ?? "", ct);
            if (subscriber is null)
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such subscriber",
                    detail: $"No subscriber has the address '{email}'. Pass ?email= with a subscriber's address.");
            }
            if (await factory.PrepareAsync(month, ct) is not { } messages)
            {
                return NoEdition(month);
            }
            var message = messages.Compose(RecipientOf(subscriber, subscriber.Id, subscriber.Email), resendCount: 0);
            if (message is null)
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No digest for this subscriber",
                    detail: $"{subscriber.Email} has no summary on their topics in {month}: no digest would be sent.");
            }
            // Email HTML is styled inline: allow inline styles for this page (still no scripts, no frames).
            http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";
            return Results.Content(message.HtmlBody ?? "", "text/html; charset=utf-8");
        }).WithSummary("The HTML of one subscriber's digest, exactly as it would be sent.").Produces<string>(contentType: "text/html");

        editions.MapPost("/{month}/test-send", async (string month, TestSendInput input, EditionMessageFactory factory,
            ISubscriberStore subscribers, MessageAssembly assembly, MailQueue queue, CancellationToken ct) =>
        {
            var problems = new FieldProblems();
            var to = problems.Email("to", input.To);
            Subscriber? like = null;
            if (input.As is { } asEmail && (like = await subscribers.FindByEmailAsync(asEmail, ct)) is null)
            {
                problems.Add("as", $"'as' must be a subscriber's address; no subscriber has '{EmailAddressRules.Printable(asEmail)}'.");
            }
            if (problems.Result() is { } refused)
            {
                return refused;
            }
            if (await factory.PrepareAsync(month, ct) is not { } messages)
            {
                return NoEdition(month);
            }
            var message = TestMessage(messages, like, to, assembly)
                ?? throw new UsageException($"{like?.Email} has no summary on their topics in {month}: there is nothing to send.");
            await queue.EnqueueAsync("test-send", message, ct);
            return Results.Ok(new TestSendView(to, message.Subject ?? "", message.MessageId ?? ""));
        }).WithSummary("Queue the edition for any address, as the subscriber 'as' would get it (default: all topics); the service sends it within moments, with retries.")
        .Produces<TestSendView>().ProducesValidationProblem();

        editions.MapPost("/{month}/send", async (string month, IContentStore content, DeliveryWorker jobs, IEditionRuns runs, TimeProvider clock,
            CancellationToken ct) =>
        {
            if (await FindSendableAsync(content, month, ct) is { } refusal)
            {
                return refusal;
            }
            return await StartAsync(jobs, runs, clock, DeliveryRequest.Send(month, StartedBy), ct);
        }).WithSummary("Send the edition now, in the background (resumable; a second send sends nothing). 202 + the edition's URL.")
        .Produces<StartedView>(StatusCodes.Status202Accepted);

        editions.MapPost("/{month}/resend", async (string month, ResendInput input, IContentStore content, ISubscriberStore subscribers,
            DeliveryWorker jobs, IEditionRuns runs, TimeProvider clock, CancellationToken ct) =>
        {
            var request = input.Kind switch
            {
                "email" => new ResendRequest(ResendKind.Email, input.Email ?? throw new UsageException("A resend of kind 'email' needs 'email': the subscriber's address.")),
                "failed" => new ResendRequest(ResendKind.Failed),
                "new" => new ResendRequest(ResendKind.New),
                _ => throw new UsageException($"kind must be 'email' (with 'email'), 'failed' or 'new', not '{input.Kind}'."),
            };
            if (await FindSendableAsync(content, month, ct) is { } refusal)
            {
                return refusal;
            }
            if (request.Email is { } address && await subscribers.FindByEmailAsync(address, ct) is null)
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such subscriber",
                    detail: $"No subscriber has the address '{address}'.");
            }
            return await StartAsync(jobs, runs, clock, DeliveryRequest.ResendOf(month, request, StartedBy), ct);
        }).WithSummary("Resend in the background: to one subscriber (kind=email), to every failed row (failed), or to subscribers confirmed since the send (new).")
        .Produces<StartedView>(StatusCodes.Status202Accepted);

        return api;
    }

    static Task<Edition?> FindAsync(IContentStore content, string month, CancellationToken ct) =>
        MonthNames.TryParse(month, out _) ? content.GetEditionAsync(month, ct) : Task.FromResult<Edition?>(null);

    /// <summary>Null when the edition exists and has summaries; the refusal otherwise.</summary>
    static async Task<IResult?> FindSendableAsync(IContentStore content, string month, CancellationToken ct) =>
        await FindAsync(content, month, ct) switch
        {
            null => NoEdition(month),
            { Summaries.Count: 0 } => Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Nothing to send",
                detail: $"The {month} edition has no summaries. Import them first."),
            _ => null,
        };

    /// <summary>
    /// 409 while any run holds the edition, whoever started it (this service, another process, the command line), or
    /// while the delivery worker has a job of it; else hands the request to the worker and answers 202 at once.
    /// </summary>
    static async Task<IResult> StartAsync(DeliveryWorker jobs, IEditionRuns runs, TimeProvider clock, DeliveryRequest request, CancellationToken ct)
    {
        var (month, kind) = (request.Month, request.Kind);
        var location = $"{AdminSetup.RoutePrefix}/editions/{month}";
        if (await runs.HolderAsync(month, ct) is { } holder && holder.IsLive(clock.GetUtcNow()))
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "A send is running",
                detail: $"A send of {month} is running ({holder.Describe()}, last heartbeat {holder.HeartbeatAt:u}); follow it at {location}.");
        }
        return jobs.TryStart(request) is not null
            ? Results.Accepted(location, new StartedView(month, kind, location))
            : Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "A send is running",
                detail: $"A send or resend of {month} is already running; follow it at {location}.");
    }

    /// <summary>
    /// A test message to <paramref name="to"/>: the edition as <paramref name="like"/> gets it (no one: all topics), its
    /// subject marked as a test; null when <paramref name="like"/> gets nothing this month. The API and the dashboard
    /// both send it.
    /// </summary>
    internal static MimeKit.MimeMessage? TestMessage(EditionMessages messages, Subscriber? like, string to, MessageAssembly assembly)
    {
        var recipient = like is null
            ? new Recipient(TestRecipientId, to, "", AllTopics: true, [])
            : RecipientOf(like, TestRecipientId, to);
        if (messages.Compose(recipient, resendCount: 0) is not { } message)
        {
            return null;
        }
        assembly.MarkAsTest(message);
        return message;
    }

    internal static Recipient RecipientOf(Subscriber subscriber, long id, string email) =>
        new(id, email, subscriber.Name, subscriber.AllTopics, subscriber.TopicIds);

    static IResult NoEdition(string month) => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such edition",
        detail: MonthNames.TryParse(month, out _)
            ? $"There is no {month} edition; import its summaries first (GET {AdminSetup.RoutePrefix}/editions lists the editions there are)."
            : $"'{month}' is not a month: write it as YYYY-MM, e.g. 2023-03.");
}
