namespace PprnetNewsletter.Content;

/// <summary>"Did you mean": the known names nearest to a mistyped one.</summary>
public static class Closest
{
    /// <summary>
    /// The <paramref name="count"/> items nearest to <paramref name="query"/>, best first. An item's distance is
    /// the smallest Levenshtein distance between the lower-cased query and any of its keys (a topic's name and
    /// slug) or any run of as many consecutive words of a key as the query has, so "aliance" finds
    /// "Alliance and Therapeutic Relationship" although the whole name is many edits away.
    /// </summary>
    public static IReadOnlyList<T> Find<T>(string query, IEnumerable<T> items, Func<T, IEnumerable<string>> keys, int count)
    {
        var wanted = query.Trim().ToLowerInvariant();
        var wantedWords = Words(wanted);
        return items
            .Select(item => (item, distance: keys(item).Min(k => Distance(wanted, wantedWords, k.ToLowerInvariant()))))
            .OrderBy(x => x.distance)
            .Take(count)
            .Select(x => x.item)
            .ToList();
    }

    /// <summary>The one nearest name if it is near enough to be a typo, else null.</summary>
    public static string? Typo(string query, IEnumerable<string> names)
    {
        var wanted = query.Trim().ToLowerInvariant();
        var best = Find(wanted, names, n => [n], 1).SingleOrDefault();
        return best is not null && Levenshtein(wanted, best) <= Math.Max(2, best.Length / 3) ? best : null;
    }

    static int Distance(string query, string[] queryWords, string key)
    {
        if (query.Length > 0 && key.Contains(query, StringComparison.Ordinal))
        {
            return 0;
        }
        var words = Words(key);
        var phrase = string.Join(' ', queryWords);
        var best = Levenshtein(query, key);
        for (var start = 0; queryWords.Length > 0 && start + queryWords.Length <= words.Length; start++)
        {
            best = Math.Min(best, Levenshtein(phrase, string.Join(' ', words, start, queryWords.Length)));
        }
        return best;
    }

    static string[] Words(string text) => text.Split([' ', '-', '/', ',', '(', ')'], StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Edits (insert, delete, substitute one character) that turn <paramref name="a"/> into <paramref name="b"/>.</summary>
    public static int Levenshtein(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
