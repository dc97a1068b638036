using Microsoft.Extensions.Options;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Content;

/// <summary>
/// The command line's check of a month argument before a verb works on it: a month that is not YYYY-MM is told how
/// to write it; a real month without an edition is told so, with the editions there are and the import command
/// that would make it — a command that works from any directory, because it names the folder in full.
/// </summary>
public sealed class EditionCheck(IContentStore content, IHostEnvironment environment, IOptions<ContentOptions> options)
{
    public async Task RequireAsync(string month, CancellationToken ct)
    {
        if (!MonthNames.TryParse(month, out _))
        {
            throw new UsageException($"\"{month}\" is not a month; write it as YYYY-MM, e.g. 2023-03.");
        }
        var editions = await content.ListEditionsAsync(ct);
        if (editions.Any(e => e.Month == month))
        {
            return;
        }
        var there = editions.Count == 0
            ? "There are no editions yet."
            : $"Existing editions: {string.Join(", ", editions.Select(e => e.Month).Order(StringComparer.Ordinal))}.";
        throw new UsageException($"There is no {month} edition. {there} To make it, import its summaries: {ImportCommand(month)}");
    }

    /// <summary>
    /// <c>pprnet import FOLDER</c> for the month: the sample folder of that month when there is one (the published
    /// binary carries the samples), else a placeholder for the operator's own folder.
    /// </summary>
    public string ImportCommand(string month)
    {
        var samples = string.IsNullOrWhiteSpace(options.Value.FirstStartFolder) ? "content" : options.Value.FirstStartFolder;
        var folder = Path.Combine(AppHome.Resolve(environment.ContentRootPath, samples), month);
        return Directory.Exists(folder) ? $"pprnet import \"{folder}\"" : "pprnet import FOLDER (the folder of its Markdown summaries)";
    }
}
