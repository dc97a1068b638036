using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Content;

/// <summary>What an import did: summaries new, updated and unchanged, and how many went into each edition.</summary>
public sealed record ImportResult(int New, int Updated, int Unchanged, IReadOnlyList<(string Month, int Summaries)> Editions)
{
    public int Total => New + Updated + Unchanged;

    /// <summary>"Imported 6 summaries (6 new, 0 updated) into 3 editions: 2022-12 (1), 2023-01 (3), 2023-03 (2)".</summary>
    public override string ToString()
    {
        var unchanged = Unchanged > 0 ? $", {Unchanged} unchanged" : "";
        // A whole archive at once would make a wall of months: give the range instead.
        var editions = Editions.Count <= 12
            ? string.Join(", ", Editions.Select(e => $"{e.Month} ({e.Summaries})"))
            : $"{Editions[0].Month} to {Editions[^1].Month}";
        return $"Imported {SummaryImporter.Count(Total, "summary", "summaries")} ({New} new, {Updated} updated{unchanged}) "
            + $"into {SummaryImporter.Count(Editions.Count, "edition")}: {editions}";
    }
}

/// <summary>
/// Imports summary files (one Markdown file, or every *.md under a folder) into editions, all or nothing:
/// every file is read and checked first, and on any problem nothing is written and every problem is reported
/// at once. Re-importing updates summaries by slug. Used by the <c>import</c> verb, the first start and the admin API.
/// </summary>
public sealed class SummaryImporter(IContentStore store, TopicCatalog topics, ILogger<SummaryImporter> logger)
{
    /// <exception cref="UsageException">Nothing was imported; the message lists every problem.</exception>
    public async Task<ImportResult> ImportAsync(string path, CancellationToken ct = default)
    {
        var (files, root) = FindFiles(Path.GetFullPath(path));
        var problems = new List<ImportProblem>();
        var drafts = new List<SummaryDraft>();
        foreach (var file in files)
        {
            var name = Path.GetRelativePath(root, file);
            byte[] bytes;
            try
            {
                bytes = await File.ReadAllBytesAsync(file, ct);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problems.Add(new ImportProblem(name, null, $"cannot be read ({e.Message})"));
                continue;
            }
            // Read strictly: a byte that is not UTF-8 would otherwise become U+FFFD in every email, unnoticed.
            var (text, line, problem) = SummaryInputGuards.Decode(bytes);
            if (text is null)
            {
                problems.Add(new ImportProblem(name, line, problem!));
                continue;
            }
            var (draft, fileProblems) = await SummaryFile.ParseAsync(text, name, topics);
            problems.AddRange(fileProblems);
            if (draft is not null)
            {
                drafts.Add(draft);
            }
        }
        foreach (var same in drafts.GroupBy(d => d.Slug).Where(g => g.Count() > 1))
        {
            var first = same.First().SourceFile;
            problems.AddRange(same.Skip(1).Select(d => new ImportProblem(d.SourceFile, null,
                $"slug '{d.Slug}' is also the slug of {first}: give one of them another slug with a line 'slug: ...'")));
        }

        await using var session = await store.BeginImportAsync(ct);
        var (changed, unchanged) = Compare(drafts, session, problems);
        if (problems.Count > 0)
        {
            throw Refusal(problems, files.Count);
        }
        await session.SaveAsync(changed, ct);
        await session.CommitAsync(ct);

        var result = new ImportResult(
            New: changed.Count(d => !session.Summaries.ContainsKey(d.Slug)),
            Updated: changed.Count(d => session.Summaries.ContainsKey(d.Slug)),
            Unchanged: unchanged,
            Editions: drafts.GroupBy(d => d.Month).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => (g.Key, g.Count())).ToList());
        logger.LogInformation("{Result} from {Path}", result, path);
        return result;
    }

    /// <summary>
    /// Splits the drafts into those to write and a count of those already stored as they are. An edition that
    /// is being sent or was sent keeps its content: any change to it is a problem.
    /// </summary>
    static (List<SummaryDraft> Changed, int Unchanged) Compare(
        List<SummaryDraft> drafts, IImportSession session, List<ImportProblem> problems)
    {
        var changed = new List<SummaryDraft>();
        var unchanged = 0;
        foreach (var draft in drafts)
        {
            var stored = session.Summaries.GetValueOrDefault(draft.Slug);
            var locked = stored is not null && EditionStatus.IsLocked(stored.EditionStatus);
            // A renamed file changes no email, but in a draft edition it may change the order (by file name).
            if (stored is not null && stored.Content.SameContentAs(draft)
                && (locked || Path.GetFileName(stored.Content.SourceFile) == Path.GetFileName(draft.SourceFile)))
            {
                unchanged++;
            }
            else if (stored is not null && locked)
            {
                problems.Add(new ImportProblem(draft.SourceFile, null,
                    $"summary '{draft.Slug}' is in the {stored.Content.Month} edition, which is {stored.EditionStatus}: its content can no "
                    + "longer change. Undo the change to this file, or give it a new slug to import it as a new summary"));
            }
            else if (session.EditionStatuses.GetValueOrDefault(draft.Month) is { } status && EditionStatus.IsLocked(status))
            {
                problems.Add(new ImportProblem(draft.SourceFile, null,
                    $"the {draft.Month} edition is {status}: no summary can be added to it or moved into it. Use another month"));
            }
            else
            {
                changed.Add(draft);
            }
        }
        return (changed, unchanged);
    }

    static UsageException Refusal(List<ImportProblem> problems, int fileCount)
    {
        var inFiles = problems.Select(p => p.File).Distinct().Count();
        var lines = new List<string>
        {
            $"Nothing was imported: {Count(problems.Count, "problem")} in {Count(inFiles, "file")} (of {Count(fileCount, "file")} read).",
        };
        lines.AddRange(problems.OrderBy(p => p.File, StringComparer.Ordinal).ThenBy(p => p.Line ?? 0).Select(p => $"  {p}"));
        lines.Add("Fix these and run the import again.");
        return UsageException.From(lines);
    }

    /// <summary>"1 file", "2 files".</summary>
    internal static string Count(int n, string one, string? many = null) => Counted.Of(n, one, many);

    /// <summary>The Markdown files to read, in a stable order, and the folder their names are shown relative to.</summary>
    static (List<string> Files, string Root) FindFiles(string path)
    {
        if (File.Exists(path))
        {
            return ([path], Path.GetDirectoryName(path)!);
        }
        if (!Directory.Exists(path))
        {
            throw new UsageException($"There is no file or folder at {path}: give a summary file (.md) or a folder of them.");
        }
        var files = Directory.EnumerateFiles(path, "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            throw new UsageException($"There are no Markdown files (*.md) in {path} or its subfolders: nothing to import.");
        }
        return (files, path);
    }
}
