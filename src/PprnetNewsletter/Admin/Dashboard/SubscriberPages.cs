using Microsoft.AspNetCore.Mvc;
using PprnetNewsletter.Content;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Web;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>
/// /admin/subscribers: search and filters, counts per status, subscribers per topic, one subscriber's page with their
/// consent history and the changes an administrator may make (each a consent event from source 'admin'), CSV in and out.
/// </summary>
public static class SubscriberPages
{
    const int PageSize = 100;

    static readonly Dictionary<string, string> Notices = new()
    {
        ["topics"] = "The topics are saved.",
        ["paused"] = "The subscription is paused.",
        ["resumed"] = "The subscription is resumed.",
        ["unsubscribed"] = "The subscriber is unsubscribed.",
        ["erased"] = "The subscriber is erased; the address is suppressed for good.",
    };

    public static RouteGroupBuilder MapSubscriberPages(this RouteGroupBuilder admin)
    {
        admin.MapGet("/subscribers", async (string? search, string? status, string? topic, int? offset, string? done, ISubscriberStore store,
            IDashboardQueries queries, TopicChoices choices, TopicCatalog topics, CancellationToken ct) =>
            AdminPages.Show("subscribers", await ListAsync(search, status, topic, offset ?? 0, Notices.GetValueOrDefault(done ?? ""), [],
                store, queries, choices, topics, ct)));

        admin.MapGet("/subscribers/export", async (HttpContext http, SubscriberCsv csv, AuditLog audit) =>
        {
            await audit.RecordAsync(http, "subscribers exported");
            return Results.Stream(async stream => await csv.ExportAsync(stream), "text/csv; charset=utf-8", "subscribers.csv");
        });

        admin.MapPost("/subscribers/import", async (HttpContext http, SubscriberCsv csv, ISubscriberStore store, IDashboardQueries queries,
            TopicChoices choices, TopicCatalog topics, AuditLog audit, CancellationToken ct) =>
        {
            var form = await WebForms.ReadAsync(http);
            if (form.Files.GetFile("file") is not { Length: > 0 } file)
            {
                return AdminPages.Show("subscribers", await ListAsync(null, null, null, 0, null, ["Choose a CSV file to import."], store, queries, choices, topics, ct),
                    StatusCodes.Status400BadRequest);
            }
            try
            {
                await using var input = file.OpenReadStream();
                var counts = await csv.ImportAsync(input, Path.GetFileName(file.FileName), http.Consent(ConsentSource.Csv), ct);
                var summary = $"{counts.Added} added, {counts.Updated} updated, {counts.Unchanged} unchanged";
                await audit.RecordAsync(http, "subscribers imported", $"{Path.GetFileName(file.FileName)}: {summary}");
                return AdminPages.Show("subscribers", await ListAsync(null, null, null, 0, $"Imported: {summary}.", [], store, queries, choices, topics, ct));
            }
            catch (UsageException refused)
            {
                var lines = refused.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                return AdminPages.Show("subscribers", await ListAsync(null, null, null, 0, null, lines, store, queries, choices, topics, ct),
                    StatusCodes.Status400BadRequest);
            }
        }).WithMetadata(new RequestSizeLimitAttribute(SubscriberEndpoints.MaxCsvBytes));

        var one = admin.MapGroup("/subscribers/{id:long}");

        one.MapGet("/", async (long id, string? done, ISubscriberStore store, TopicCatalog topics, CancellationToken ct) =>
            await store.GetAsync(id, ct) is { } subscriber
                ? AdminPages.Show("subscriber", await PageAsync(subscriber, Notices.GetValueOrDefault(done ?? ""), [], store, topics, ct))
                : NoSubscriber(id));

        one.MapPost("/topics", async (long id, HttpContext http, ISubscriberStore store, TopicCatalog topics, AuditLog audit, CancellationToken ct) =>
        {
            if (await store.GetAsync(id, ct) is not { } subscriber)
            {
                return NoSubscriber(id);
            }
            var check = new FormCheck(await WebForms.ReadAsync(http));
            var selection = await check.TopicsAsync(topics);
            if (!check.IsValid)
            {
                return AdminPages.Show("subscriber", await PageAsync(subscriber, null, check.Errors, store, topics, ct), StatusCodes.Status400BadRequest);
            }
            await store.UpdatePreferencesAsync(id, null, selection, http.Consent(ConsentSource.Admin), ct);
            await audit.RecordAsync(http, "subscriber topics changed", subscriber.Email);
            return Results.Redirect($"/admin/subscribers/{id}?done=topics");
        });

        one.MapPost("/pause", (long id, HttpContext http, ISubscriberStore store, AuditLog audit, CancellationToken ct) =>
            ChangeAsync(id, http, store, audit, "paused", store.PauseAsync, ct));
        one.MapPost("/resume", (long id, HttpContext http, ISubscriberStore store, AuditLog audit, CancellationToken ct) =>
            ChangeAsync(id, http, store, audit, "resumed", store.ResumeAsync, ct));
        one.MapPost("/unsubscribe", (long id, HttpContext http, ISubscriberStore store, AuditLog audit, CancellationToken ct) =>
            ChangeAsync(id, http, store, audit, "unsubscribed", store.UnsubscribeAsync, ct));

        one.MapGet("/erase", async (long id, ISubscriberStore store, CancellationToken ct) =>
            await store.GetAsync(id, ct) is { } subscriber
                ? AdminPages.Show("confirm", new ConfirmPage
                {
                    Title = "Erase subscriber?",
                    Month = "",
                    Heading = $"Erase {subscriber.Email}?",
                    Explanation = "This deletes the address, name and topics for good and suppresses the address, so it is never mailed "
                        + "again unless its owner subscribes anew. The consent history keeps its events without the personal data. This cannot be undone.",
                    Action = $"/admin/subscribers/{id}/erase",
                    Button = "Yes, erase this subscriber",
                    CancelHref = $"/admin/subscribers/{id}",
                })
                : NoSubscriber(id));

        one.MapPost("/erase", async (long id, HttpContext http, ISubscriberStore store, AuditLog audit, CancellationToken ct) =>
        {
            await WebForms.ReadAsync(http);
            if (await store.GetAsync(id, ct) is not { } subscriber)
            {
                return NoSubscriber(id);
            }
            await store.EraseAsync(id, http.Consent(ConsentSource.Admin), ct);
            // The log says who was erased by id only: the address itself is what erasure removes.
            await audit.RecordAsync(http, "subscriber erased", $"id {subscriber.Id}");
            return Results.Redirect("/admin/subscribers?done=erased");
        });

        return admin;
    }

    static async Task<IResult> ChangeAsync(long id, HttpContext http, ISubscriberStore store, AuditLog audit, string done,
        Func<long, ConsentContext, CancellationToken, Task<Subscriber?>> change, CancellationToken ct)
    {
        await WebForms.ReadAsync(http);
        if (await change(id, http.Consent(ConsentSource.Admin), ct) is not { } changed)
        {
            return NoSubscriber(id);
        }
        await audit.RecordAsync(http, "subscriber " + done, changed.Email);
        return Results.Redirect($"/admin/subscribers/{id}?done={done}");
    }

    static async Task<SubscribersPage> ListAsync(string? search, string? status, string? topic, int offset, string? notice, IReadOnlyList<string> problems,
        ISubscriberStore store, IDashboardQueries queries, TopicChoices choices, TopicCatalog topics, CancellationToken ct)
    {
        search = string.IsNullOrWhiteSpace(search) ? null : search.Trim();
        status = SubscriberStatus.IsKnown(status) ? status : null;
        topic = topic is { Length: > 0 } && await topics.FindAsync(topic) is { } known ? known.Slug : null;
        offset = Math.Max(0, offset);
        IReadOnlyList<Subscriber> found;
        int total;
        if (topic is null)
        {
            var page = await store.ListAsync(new SubscriberFilter(search, status), offset, PageSize, ct);
            (found, total) = (page.Items, page.Total);
        }
        else
        {
            var ids = await queries.SubscriberIdsWithTopicAsync(topic, status, search, ct);
            var subscribers = new List<Subscriber>();
            foreach (var id in ids.Skip(offset).Take(PageSize))
            {
                if (await store.GetAsync(id, ct) is { } subscriber)
                {
                    subscribers.Add(subscriber);
                }
            }
            (found, total) = (subscribers, ids.Count);
        }
        var lines = new List<SubscriberLine>();
        foreach (var s in found)
        {
            lines.Add(new SubscriberLine(s.Id, s.Email, s.Name, s.Status, await choices.FormatAsync(s.Topics), s.CreatedAt));
        }
        var perTopic = await queries.SubscribersPerTopicAsync(ct);
        return new SubscribersPage
        {
            Title = "Subscribers",
            Subscribers = lines,
            Total = total,
            CountsByStatus = await queries.SubscribersPerStatusAsync(ct),
            TopicChart = Charts.Bars(perTopic.Select(t => (t.Name, t.Count)).ToList(), "Subscribers (confirmed or paused) per topic"),
            Topics = await topics.AllAsync(),
            Search = search ?? "",
            Status = status ?? "",
            Topic = topic ?? "",
            Offset = offset,
            Limit = PageSize,
            Notice = notice,
            Problems = problems,
        };
    }

    static async Task<SubscriberPage> PageAsync(Subscriber subscriber, string? notice, IReadOnlyList<FieldError> errors, ISubscriberStore store,
        TopicCatalog topics, CancellationToken ct) => new()
        {
            Title = subscriber.Email,
            Subscriber = subscriber,
            Topics = await topics.AllAsync(),
            Events = await store.ConsentEventsAsync(subscriber.Id, ct),
            Notice = notice,
            Errors = errors,
        };

    static IResult NoSubscriber(long id) => AdminPages.Message(StatusCodes.Status404NotFound, "No such subscriber", $"There is no subscriber with id {id}.");
}
