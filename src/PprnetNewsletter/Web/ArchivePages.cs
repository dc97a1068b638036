using PprnetNewsletter.Content;

namespace PprnetNewsletter.Web;

/// <summary>
/// The web archive: every published edition at a stable URL, /archive/YYYY-MM, each summary anchored by its
/// slug (the digests' "view in browser" and "Also this month" links). Editions only: no personal data.
/// </summary>
public static class ArchivePages
{
    public static IEndpointRouteBuilder MapArchivePages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/archive", async (ContentStore content, CancellationToken ct) =>
        {
            var editions = await content.PublishedEditionsAsync(ct);
            return Pages.Show("archive", new ArchiveIndexPage
            {
                Title = "Archive",
                Editions = editions.Select(e => new ArchiveEntry(e.Month, MonthNames.Display(e.Month), e.Titles)).ToList(),
            });
        }).ExcludeFromDescription();

        app.MapGet("/archive/{month}", async (string month, ContentStore content, CancellationToken ct) =>
        {
            var edition = MonthNames.TryParse(month, out _) ? await content.GetEditionAsync(month, ct) : null;
            if (edition is null || !ContentStore.IsPublished(edition))
            {
                return Pages.Message(StatusCodes.Status404NotFound, "Edition not found", "No such edition",
                    "There is no published edition for this month. The archive lists every edition that has been sent.");
            }
            return Pages.Show("archive-month", new ArchiveMonthPage { Title = edition.MonthName, Edition = edition });
        }).ExcludeFromDescription();

        return app;
    }
}
