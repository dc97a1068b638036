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

    /// <summary>"'Anxiety' is not a topic (closest: Anxiety Disorders, ...)".</summary>
    public async Task<string> DescribeUnknownAsync(string name)
    {
        var closest = await ClosestAsync(name);
        return closest.Count == 0
            ? $"'{name}' is not a topic"
            : $"'{name}' is not a topic (closest: {string.Join(", ", closest.Select(t => t.Name))})";
    }

    /// <summary>Up to <paramref name="count"/> topics whose name or slug contains, or nearly spells, <paramref name="text"/>.</summary>
    public async Task<IReadOnlyList<Topic>> ClosestAsync(string text, int count = 3)
    {
        var wanted = text.Trim().ToLowerInvariant();
        if (wanted.Length == 0)
        {
            return [];
        }
        var tolerance = wanted.Length <= 4 ? 1 : wanted.Length / 3;
        return (await catalog.AllAsync())
            .Select(t => (Topic: t, Distance: Math.Min(Distance(wanted, t.Name.ToLowerInvariant()), Distance(wanted, t.Slug))))
            .Where(c => c.Distance <= tolerance)
            .OrderBy(c => c.Distance).ThenBy(c => c.Topic.Name, StringComparer.Ordinal)
            .Take(count)
            .Select(c => c.Topic)
            .ToList();
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

    /// <summary>
    /// 0 when <paramref name="wanted"/> occurs in <paramref name="candidate"/>; else the smallest edit distance to
    /// the whole candidate or to the text starting at one of its words ("anxity" is 2 from "anxiety disorders").
    /// </summary>
    static int Distance(string wanted, string candidate)
    {
        if (candidate.Contains(wanted, StringComparison.Ordinal))
        {
            return 0;
        }
        var best = EditDistance(wanted, candidate);
        for (var start = 0; start < candidate.Length; start++)
        {
            if (start == 0 || !char.IsLetterOrDigit(candidate[start - 1]))
            {
                var part = candidate.Substring(start, Math.Min(wanted.Length, candidate.Length - start));
                best = Math.Min(best, EditDistance(wanted, part));
            }
        }
        return best;
    }

    static int EditDistance(string wanted, string candidate)
    {
        var previous = Enumerable.Range(0, candidate.Length + 1).ToArray();
        for (var i = 1; i <= wanted.Length; i++)
        {
            var current = new int[candidate.Length + 1];
            current[0] = i;
            for (var j = 1; j <= candidate.Length; j++)
            {
                var substitution = previous[j - 1] + (wanted[i - 1] == candidate[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }
            previous = current;
        }
        return previous[candidate.Length];
    }
}
