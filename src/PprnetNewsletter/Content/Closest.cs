namespace PprnetNewsletter.Content;

/// <summary>"Did you mean": the known names near a mistyped one, and only those.</summary>
public static class Closest
{
    /// <summary>Words that say nothing about a topic ("Trauma and/or PTSD"): they neither match nor need a match.</summary>
    static readonly HashSet<string> Filler = ["a", "an", "and", "or", "of", "the", "in", "on", "for", "to", "with"];

    /// <summary>
    /// At most <paramref name="count"/> items that match <paramref name="query"/> word by word, best first. Each word
    /// of the query is compared with each word of an item's keys (a topic's name and slug) and counts as found when
    /// it is a typo away (Damerau–Levenshtein, more edits allowed for longer words) or the start of a key word
    /// ("depress" finds "depression"). The items that find the most query words win, the fewest edits first;
    /// an item that finds none is not suggested at all, so a query like nothing known gets an empty list.
    /// </summary>
    public static IReadOnlyList<T> Find<T>(string query, IEnumerable<T> items, Func<T, IEnumerable<string>> keys, int count)
    {
        var wanted = Words(query).Where(w => !Filler.Contains(w)).Distinct().ToList();
        if (wanted.Count == 0)
        {
            return [];
        }
        var scored = items
            .Select(item =>
            {
                var words = keys(item).SelectMany(Words).Distinct().ToList();
                var found = wanted.Select(w => words.Select(k => WordDistance(w, k)).Where(d => d is not null).Min()).Where(d => d is not null).ToList();
                return (item, matched: found.Count, edits: found.Sum(d => d!.Value));
            })
            .Where(x => x.matched > 0)
            .ToList();
        if (scored.Count == 0)
        {
            return [];
        }
        var most = scored.Max(x => x.matched);
        return scored.Where(x => x.matched == most).OrderBy(x => x.edits).Take(count).Select(x => x.item).ToList();
    }

    /// <summary>The one nearest name if it is near enough to be a typo, else null.</summary>
    public static string? Typo(string query, IEnumerable<string> names)
    {
        var wanted = query.Trim().ToLowerInvariant();
        var best = names.Select(n => (name: n, distance: Distance(wanted, n.ToLowerInvariant()))).OrderBy(x => x.distance).FirstOrDefault();
        return best.name is not null && best.distance <= Math.Max(2, best.name.Length / 3) ? best.name : null;
    }

    /// <summary>Edits from query word <paramref name="word"/> to key word <paramref name="key"/>, or null when too far to be a typo.</summary>
    static int? WordDistance(string word, string key)
    {
        if (word.Length >= 4 && key.StartsWith(word, StringComparison.Ordinal))
        {
            return 0;
        }
        var allowed = word.Length switch { <= 3 => 0, <= 5 => 1, <= 9 => 2, _ => 3 };
        // An edit changes the length by one at most: words further apart in length are no typo of each other, and are
        // not compared (a 100 KB "word" would otherwise cost a table of its length times the key's).
        if (Math.Abs(word.Length - key.Length) > allowed)
        {
            return null;
        }
        var distance = Distance(word, key);
        return distance <= allowed ? distance : null;
    }

    static IEnumerable<string> Words(string text) =>
        text.ToLowerInvariant().Split(text.Where(c => !char.IsLetterOrDigit(c)).Distinct().ToArray(), StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// Edits (insert, delete or substitute one character, or swap two neighbours) that turn <paramref name="a"/> into
    /// <paramref name="b"/>: the optimal-string-alignment form of Damerau–Levenshtein, where "digset" is one edit
    /// from "digest".
    /// </summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
