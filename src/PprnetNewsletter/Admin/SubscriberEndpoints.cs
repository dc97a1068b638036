using Microsoft.AspNetCore.Mvc;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Admin;

/// <summary>A subscriber as the admin API shows it: topics as slugs, or "all".</summary>
public sealed record SubscriberView(long Id, string Email, string Name, string Status, string Topics,
    DateTimeOffset CreatedAt, DateTimeOffset? ConfirmedAt);

public sealed record SubscriberListView(IReadOnlyList<SubscriberView> Items, int Total, int Offset, int Limit);

/// <summary>
/// A subscriber to add, or the changes to one (absent fields stay as they are). <c>Topics</c> is written as on
/// the command line and in CSV: slugs or names separated by ';', or <c>all</c>. <c>Status</c> on update is
/// <c>paused</c>, <c>confirmed</c> (resume) or <c>unsubscribed</c>.
/// </summary>
public sealed record SubscriberInput(string? Email, string? Name, string? Topics, string? Status);

public sealed record ImportView(int Added, int Updated, int Unchanged);

/// <summary>/admin/api/subscribers: list, search, get, add, update, delete, CSV import and export. Source 'admin' or 'csv'.</summary>
public static class SubscriberEndpoints
{
    /// <summary>The largest CSV accepted by the import (the rest of the API keeps the small default limit).</summary>
    public const long MaxCsvBytes = 64L * 1024 * 1024;

    public static RouteGroupBuilder MapSubscriberEndpoints(this RouteGroupBuilder api)
    {
        var subscribers = api.MapGroup("/subscribers").WithTags("Subscribers");

        subscribers.MapGet("/", async (string? search, string? status, int? offset, int? limit, ISubscriberStore store,
            TopicChoices topics, CancellationToken ct) =>
        {
            var page = await store.ListAsync(new SubscriberFilter(search, status), offset ?? 0, limit ?? 100, ct);
            var items = new List<SubscriberView>();
            foreach (var subscriber in page.Items)
            {
                items.Add(await ViewAsync(subscriber, topics));
            }
            return TypedResults.Ok(new SubscriberListView(items, page.Total, page.Offset, page.Limit));
        }).WithSummary("List subscribers, filtered by status and by a piece of the address or name (search).");

        subscribers.MapGet("/{id:long}", async (long id, ISubscriberStore store, CancellationToken ct) =>
            await store.ExportPersonalDataAsync(id, ct) is { } data ? Results.Ok(data) : NotFound(id))
            .WithSummary("One subscriber with topics and consent record.")
            .Produces<PersonalData>();

        subscribers.MapPost("/", async (SubscriberInput input, ISubscriberStore store, TopicChoices topics, CancellationToken ct) =>
        {
            var problems = new FieldProblems();
            var email = problems.Email("email", input.Email);
            var name = problems.Name("name", input.Name) ?? "";
            var selection = await problems.TopicsAsync("topics", input.Topics, topics);
            var status = input.Status ?? SubscriberStatus.Confirmed;
            if (!SubscriberStatus.IsKnown(status))
            {
                problems.Add("status", $"Unknown status '{status}'; use one of {string.Join(", ", SubscriberStatus.All)}.");
            }
            if (problems.Result() is { } refused)
            {
                return refused;
            }
            var added = await store.AddAsync(new NewSubscriber(email, name, selection!, status), ConsentContext.Admin, ct);
            return TypedResults.Created($"{AdminSetup.RoutePrefix}/subscribers/{added.Id}", await ViewAsync(added, topics));
        }).WithSummary("Add a subscriber on the administrator's word: confirmed unless status says otherwise.")
        .Produces<SubscriberView>(StatusCodes.Status201Created).ProducesValidationProblem();

        subscribers.MapPut("/{id:long}", async (long id, SubscriberInput input, ISubscriberStore store, TopicChoices topics, CancellationToken ct) =>
        {
            var problems = new FieldProblems();
            if (input.Email is not null)
            {
                problems.Add("email", "The address of a subscriber cannot be changed: delete the subscriber and add the new address.");
            }
            var name = problems.Name("name", input.Name);
            var selection = input.Topics is null ? null : await problems.TopicsAsync("topics", input.Topics, topics);
            if (input.Status is { } status && !StatusMove.Targets.Contains(status))
            {
                problems.Add("status", StatusMove.TargetProblem(status));
            }
            if (problems.Result() is { } refused)
            {
                return refused;
            }
            // One transaction: a status the subscriber cannot move to refuses the whole change, name and topics too.
            var updated = await store.UpdateAsync(id, new SubscriberChange(name, selection, input.Status), ConsentContext.Admin, ct);
            return updated is null ? NotFound(id) : Results.Ok(await ViewAsync(updated, topics));
        }).WithSummary("Change name, topics and status (paused, confirmed to resume, unsubscribed); all or nothing.")
        .Produces<SubscriberView>().ProducesValidationProblem();

        subscribers.MapDelete("/{id:long}", async (long id, bool? erase, ISubscriberStore store, CancellationToken ct) =>
        {
            var removed = erase == true ? await store.EraseAsync(id, ConsentContext.Admin, ct) : await store.DeleteAsync(id, ConsentContext.Admin, ct);
            return removed ? Results.NoContent() : NotFound(id);
        }).WithSummary("Delete a subscriber (the address may be added again); erase=true also suppresses the address for good.");

        subscribers.MapPost("/import", async (HttpRequest request, SubscriberCsv csv, CancellationToken ct) =>
        {
            var counts = await csv.ImportAsync(request.Body, "the uploaded CSV", ConsentContext.Csv, ct);
            return TypedResults.Ok(new ImportView(counts.Added, counts.Updated, counts.Unchanged));
        })
        .Accepts<string>("text/csv")
        .WithMetadata(new RequestSizeLimitAttribute(MaxCsvBytes))
        .WithSummary("Import subscribers from CSV (header email,name,topics[,status]); all or nothing, every bad row listed.");

        subscribers.MapGet("/export", (SubscriberCsv csv) => Results.Stream(
            async stream => await csv.ExportAsync(stream), "text/csv; charset=utf-8", "subscribers.csv"))
            .WithSummary("Every subscriber as CSV, in the format the import reads.");

        return api;
    }

    static async Task<SubscriberView> ViewAsync(Subscriber subscriber, TopicChoices topics) =>
        new(subscriber.Id, subscriber.Email, subscriber.Name, subscriber.Status, await topics.FormatAsync(subscriber.Topics),
            subscriber.CreatedAt, subscriber.ConfirmedAt);

    static IResult NotFound(long id) => Results.Problem(statusCode: StatusCodes.Status404NotFound,
        title: "No such subscriber", detail: $"There is no subscriber with id {id}.");
}
