using PprnetNewsletter.Content;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Subscribers;

/// <summary>
/// Topic choices as people type them: "all", or topics by slug or name (any case) separated by ';' or ','.
/// Some names contain commas ("Attendance, Attrition, and Drop-Out"), so pieces split at a comma are joined
/// back when together they name a topic. An unknown topic is reported with the closest known ones.
/// </summary>
public sealed class TopicChoices(TopicCatalog catalog)
{
    public const string AllKeyword = "all";

    /// <summary>The selection <paramref name="text"/> describes, or false and what is wrong with it.</summary>
    public async Task<(TopicSelection? Selection, string? Problem)> TryParseAsync(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, $"no topics given: list topics separated by ';' or write '{AllKeyword}'");
        }
        if (text.Trim().Equals(AllKeyword, StringComparison.OrdinalIgnoreCase))
        {
            return (TopicSelection.All, null);
        }
        var pieces = text.Split([';', ','], StringSplitOptions.TrimEntries);
        var ids = new List<long>();
        var unknown = new List<string>();
        for (var start = 0; start < pieces.Length;)
        {
            if (pieces[start].Length == 0)
            {
                start++;
                continue;
            }
            var (topic, end) = await LongestMatchAsync(pieces, start);
            if (topic is null)
            {
                unknown.Add(pieces[start]);
                start++;
            }
            else
            {
                ids.Add(topic.Id);
                start = end;
            }
        }
        if (unknown.Count > 0)
        {
            var described = new List<string>();
            foreach (var name in unknown)
            {
                described.Add(await DescribeUnknownAsync(name));
            }
            return (null, string.Join("; ", described));
        }
        return ids.Count == 0
            ? (null, $"no topics given: list topics separated by ';' or write '{AllKeyword}'")
            : (TopicSelection.Of(ids), null);
    }

    /// <summary>The selection <paramref name="text"/> describes; a <see cref="UsageException"/> otherwise.</summary>
    public async Task<TopicSelection> ParseAsync(string? text)
    {
        var (selection, problem) = await TryParseAsync(text);
        return selection ?? throw new UsageException($"Topics: {problem}. Run 'pprnet topics' for the list.");
    }

    /// <summary>"all", or the topics' slugs separated by ';' (the CSV form, which <see cref="ParseAsync"/> reads back).</summary>
    public async Task<string> FormatAsync(TopicSelection selection)
    {
        if (selection.AllTopics)
        {
            return AllKeyword;
        }
        var slugs = new List<string>();
        foreach (var id in selection.TopicIds)
        {
            slugs.Add((await catalog.GetAsync(id)).Slug);
        }
        return string.Join(';', slugs);
    }

    /// <summary>"'Anxity' is not a topic (closest: 'Anxiety Disorders', ...)".</summary>
    public async Task<string> DescribeUnknownAsync(string name)
    {
        var closest = await catalog.ClosestAsync(name);
        return closest.Count == 0
            ? $"'{name}' is not a topic, nor close to one ('pprnet topics' lists them all)"
            : $"'{name}' is not a topic (closest: {string.Join(", ", closest.Select(t => $"'{t.Name}'"))})";
    }

    /// <summary>The topic named by the most pieces from <paramref name="start"/> joined by commas, and the index after them.</summary>
    async Task<(Topic? Topic, int End)> LongestMatchAsync(string[] pieces, int start)
    {
        for (var end = pieces.Length; end > start; end--)
        {
            if (await catalog.FindAsync(string.Join(", ", pieces[start..end])) is { } topic)
            {
                return (topic, end);
            }
        }
        return (null, start + 1);
    }
}
