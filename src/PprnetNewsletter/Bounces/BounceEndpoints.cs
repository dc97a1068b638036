namespace PprnetNewsletter.Bounces;

/// <summary>/admin/api/bounces: the reports the service read, with what it did, and each one's raw message.</summary>
public static class BounceEndpoints
{
    public static RouteGroupBuilder MapBounceEndpoints(this RouteGroupBuilder api)
    {
        var bounces = api.MapGroup("/bounces").WithTags("Bounces");

        bounces.MapGet("/", async (string? kind, int? offset, int? limit, IBounceStore store, CancellationToken ct) =>
            TypedResults.Ok(await store.ListAsync(string.IsNullOrWhiteSpace(kind) ? null : kind.Trim().ToLowerInvariant(),
                offset ?? 0, limit ?? 100, ct)))
            .WithSummary("Bounces, complaints, mailto unsubscribes and automatic replies, newest first; kind filters " +
                "(permanent, transient, complaint, mailto, autoreply).");

        bounces.MapGet("/{id:long}/raw", async (long id, IBounceStore store, CancellationToken ct) =>
        {
            if (await store.GetAsync(id, ct) is not { } report)
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such report",
                    detail: $"There is no bounce report with id {id}.");
            }
            var raw = await store.RawAsync(id, ct) ?? [];
            // Mail is served as a download, never rendered by the browser: it is untrusted content.
            return report.Channel == BounceMailbox.Channel
                ? Results.File(raw, "message/rfc822", $"bounce-{id}.eml")
                : Results.File(raw, "application/json", $"bounce-{id}.json");
        }).WithSummary("The report as received (capped at 256 KB): the message, or the provider's event.");

        return api;
    }
}
