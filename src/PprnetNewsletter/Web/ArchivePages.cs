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
        app.MapGet("/archive", async (IContentStore content, CancellationToken ct) =>
        {
            var entries = new List<ArchiveEntry>();
            foreach (var info in (await content.ListEditionsAsync(ct)).Where(e => IsPublished(e.Status)))
            {
                var edition = await content.GetEditionAsync(info.Month, ct);
                if (edition is not null)
                {
                    entries.Add(new ArchiveEntry(edition.Month, edition.MonthName,
                        edition.Summaries.Select(s => new ArchiveTitle(s.Title, $"/archive/{edition.Month}#{s.Slug}")).ToList()));
                }
            }
            return Pages.Show("archive", new ArchiveIndexPage { Title = "Archive", Editions = entries });
        }).ExcludeFromDescription();

        app.MapGet("/archive/{month}", async (string month, IContentStore content, CancellationToken ct) =>
        {
            var edition = MonthNames.TryParse(month, out _) ? await content.GetEditionAsync(month, ct) : null;
            if (edition is null || !IsPublished(edition.Status))
            {
                return Pages.Message(StatusCodes.Status404NotFound, "Edition not found", "No such edition",
                    "There is no published edition for this month. The archive lists every edition that has been sent.");
            }
            return Pages.Show("archive-month", new ArchiveMonthPage { Title = edition.MonthName, Edition = edition });
        }).ExcludeFromDescription();

        return app;
    }

    /// <summary>
    /// An edition is public once its sending starts, so readers of the first emails of a long send can follow
    /// their "view in browser" links; drafts stay private.
    /// </summary>
    static bool IsPublished(string status) => EditionStatus.IsLocked(status);
}
