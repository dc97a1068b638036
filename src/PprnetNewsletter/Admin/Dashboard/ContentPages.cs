using System.Text;
using Microsoft.AspNetCore.Mvc;
using PprnetNewsletter.Content;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Web;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>
/// /admin/content: each month's summaries, the upload of summary files and a form for one summary. Both go through the
/// import itself (<see cref="SummaryImporter"/>, <see cref="SummaryFile"/>): the same rules, all or nothing, every problem
/// listed; a summary of an edition that is being sent or was sent cannot change.
/// </summary>
public static class ContentPages
{
    /// <summary>The largest upload of summary files accepted (a month is a few tens of kilobytes).</summary>
    public const long MaxUploadBytes = 8L * 1024 * 1024;

    /// <summary>The longest Markdown field of the summary form (the public forms' limit is far smaller).</summary>
    const int MaxFieldLength = 512 * 1024;

    public static RouteGroupBuilder MapContentPages(this RouteGroupBuilder admin)
    {
        admin.MapGet("/content", async (string? done, IContentStore content, CancellationToken ct) =>
            AdminPages.Show("content", await PageAsync(content, done == "saved" ? "The summary is saved." : null, [], ct)));

        admin.MapPost("/content/upload", async (HttpContext http, IContentStore content, SummaryImporter importer, AuditLog audit,
            CancellationToken ct) =>
        {
            var form = await WebForms.ReadAsync(http);
            var files = form.Files.Where(f => f.Length > 0 || f.FileName.Length > 0).ToList();
            if (files.Count == 0)
            {
                return AdminPages.Show("content", await PageAsync(content, null, ["Choose one or more summary files (.md) to upload."], ct),
                    StatusCodes.Status400BadRequest);
            }
            var folder = Directory.CreateTempSubdirectory("pprnet-upload-");
            try
            {
                var problems = new List<string>();
                foreach (var file in files)
                {
                    // Browsers send the bare name; anything else (a path, '..') is cut to the name alone.
                    var name = Path.GetFileName(file.FileName.Replace('\\', '/'));
                    var path = Path.Combine(folder.FullName, name);
                    if (!name.EndsWith(".md", StringComparison.OrdinalIgnoreCase))
                    {
                        problems.Add($"{name}: is not a Markdown file: upload summary files whose names end in .md");
                    }
                    else if (File.Exists(path))
                    {
                        problems.Add($"{name}: two files have this name: upload one of them, or rename it");
                    }
                    else
                    {
                        await using var target = File.Create(path);
                        await file.CopyToAsync(target, ct);
                    }
                }
                if (problems.Count > 0)
                {
                    return AdminPages.Show("content", await PageAsync(content, null, ["Nothing was imported.", .. problems], ct), StatusCodes.Status400BadRequest);
                }
                var result = await importer.ImportAsync(folder.FullName, ct);
                await audit.RecordAsync(http, "summaries uploaded", string.Join(", ", files.Select(f => Path.GetFileName(f.FileName))) + ": " + result);
                return AdminPages.Show("content", await PageAsync(content, result + ".", [], ct));
            }
            catch (UsageException refused)
            {
                return AdminPages.Show("content", await PageAsync(content, null, Lines(refused), ct), StatusCodes.Status400BadRequest);
            }
            finally
            {
                folder.Delete(recursive: true);
            }
        }).WithMetadata(new RequestSizeLimitAttribute(MaxUploadBytes));

        admin.MapGet("/content/summaries/new", async (string? month, TopicCatalog topics) => AdminPages.Show("summary", new SummaryFormPage
        {
            Title = "New summary",
            Fields = new SummaryFields("", "", MonthNames.TryParse(month, out _) ? month! : "", "", new HashSet<string>(), "", "", "",
                ""),
            Topics = await topics.AllAsync(),
        }));

        admin.MapGet("/content/summaries/{slug}", async (string slug, IDashboardQueries queries, TopicCatalog topics, CancellationToken ct) =>
        {
            if (await queries.SummaryAsync(slug, ct) is not { } summary)
            {
                return AdminPages.Message(StatusCodes.Status404NotFound, "No such summary", $"There is no summary '{slug}'.");
            }
            return AdminPages.Show("summary", new SummaryFormPage
            {
                Title = summary.Title,
                Editing = summary.Slug,
                ReadOnly = EditionStatus.IsLocked(summary.EditionStatus),
                Fields = new SummaryFields(summary.Slug, summary.Title, summary.Month, summary.Position.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    summary.TopicSlugs.ToHashSet(), summary.Citation ?? "", summary.ResearchType ?? "", summary.BodyMarkdown, summary.ImplicationsMarkdown),
                Topics = await topics.AllAsync(),
            });
        });

        admin.MapPost("/content/summaries/new", (HttpContext http, TopicCatalog topics, SummaryImporter importer, AuditLog audit, CancellationToken ct) =>
            SaveAsync(null, http, topics, importer, audit, ct)).WithFormOptions(valueLengthLimit: MaxFieldLength);
        admin.MapPost("/content/summaries/{slug}", (string slug, HttpContext http, TopicCatalog topics, SummaryImporter importer, AuditLog audit,
            CancellationToken ct) => SaveAsync(slug, http, topics, importer, audit, ct)).WithFormOptions(valueLengthLimit: MaxFieldLength);

        return admin;
    }

    /// <summary>Previews the Markdown, or saves the summary through the import; the form comes back with every problem.</summary>
    static async Task<IResult> SaveAsync(string? editing, HttpContext http, TopicCatalog topics, SummaryImporter importer, AuditLog audit, CancellationToken ct)
    {
        var form = await WebForms.ReadAsync(http);
        string Field(string name) => (form[name].ToString() ?? "").Replace("\r\n", "\n");
        var title = Field("title").Trim();
        var slug = editing ?? (Field("slug").Trim() is { Length: > 0 } given ? given : SummaryFile.Slugify(title));
        var fields = new SummaryFields(slug, title, Field("month").Trim(), Field("order").Trim(), form["topics"].Select(t => t ?? "").ToHashSet(),
            Field("citation").Trim(), Field("research_type").Trim(), Field("body"), Field("implications"));
        SummaryFormPage Page(IReadOnlyList<string> problems, bool preview, IReadOnlyList<Topic> all) => new()
        {
            Title = editing is null ? "New summary" : fields.Title,
            Editing = editing,
            Fields = fields,
            Topics = all,
            Problems = problems,
            BodyPreview = preview ? SummaryMarkdown.Render(fields.Body).Html : null,
            ImplicationsPreview = preview ? SummaryMarkdown.Render(fields.Implications).Html : null,
        };
        var all = await topics.AllAsync();
        if (form["intent"] == "preview")
        {
            return AdminPages.Show("summary", Page([], preview: true, all));
        }

        var oneLine = new[] { ("title", fields.Title), ("month", fields.Month), ("order", fields.Order), ("citation", fields.Citation),
            ("research type", fields.ResearchType), ("slug", fields.Slug) }.Where(f => f.Item2.Any(char.IsControl)).Select(f => $"The {f.Item1} must be on one line.").ToList();
        if (oneLine.Count > 0)
        {
            return AdminPages.Show("summary", Page(oneLine, preview: false, all), StatusCodes.Status400BadRequest);
        }
        var file = $"{fields.Slug}.md";
        var text = FileText(fields);
        var (_, problems) = await SummaryFile.ParseAsync(text, file, topics);
        if (problems.Count > 0)
        {
            // The file is the form's own making: its name and line numbers would mean nothing to the author.
            return AdminPages.Show("summary", Page(problems.Select(p => Sentence(p.Message)).ToList(), preview: false, all), StatusCodes.Status400BadRequest);
        }
        var folder = Directory.CreateTempSubdirectory("pprnet-summary-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, file), text, ct);
            var result = await importer.ImportAsync(Path.Combine(folder.FullName, file), ct);
            await audit.RecordAsync(http, editing is null ? "summary added" : "summary edited", $"{fields.Slug} ({fields.Month}): {result}");
            return Results.Redirect("/admin/content?done=saved");
        }
        catch (UsageException refused)
        {
            return AdminPages.Show("summary", Page(Lines(refused), preview: false, all), StatusCodes.Status400BadRequest);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>The summary file the form stands for, every value in YAML double quotes (so no value can be read as structure).</summary>
    internal static string FileText(SummaryFields fields)
    {
        var text = new StringBuilder("---\n");
        text.Append("title: ").Append(Quote(fields.Title)).Append('\n');
        text.Append("month: ").Append(Quote(fields.Month)).Append('\n');
        if (fields.Order.Length > 0)
        {
            text.Append("order: ").Append(Quote(fields.Order)).Append('\n');
        }
        text.Append("topics: [").Append(string.Join(", ", fields.TopicSlugs.Select(Quote))).Append("]\n");
        if (fields.Citation.Length > 0)
        {
            text.Append("citation: ").Append(Quote(fields.Citation)).Append('\n');
        }
        if (fields.ResearchType.Length > 0)
        {
            text.Append("research_type: ").Append(Quote(fields.ResearchType)).Append('\n');
        }
        text.Append("slug: ").Append(Quote(fields.Slug)).Append('\n');
        text.Append("---\n").Append(fields.Body.Trim()).Append("\n\n## ").Append(SummaryMarkdown.ImplicationsHeading).Append('\n')
            .Append(fields.Implications.Trim()).Append('\n');
        return text.ToString();
    }

    static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    static string Sentence(string message) => char.ToUpperInvariant(message[0]) + message[1..] + (message.EndsWith('.') ? "" : ".");

    static IReadOnlyList<string> Lines(UsageException refused) =>
        refused.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    static async Task<ContentPage> PageAsync(IContentStore content, string? notice, IReadOnlyList<string> problems, CancellationToken ct)
    {
        var editions = new List<ContentEdition>();
        foreach (var info in await content.ListEditionsAsync(ct))
        {
            var edition = (await content.GetEditionAsync(info.Month, ct))!;
            editions.Add(new ContentEdition(edition.Month, edition.MonthName, edition.Status, EditionPages.Lines(edition)));
        }
        return new ContentPage { Title = "Content", Editions = editions, Notice = notice, Problems = problems };
    }
}
