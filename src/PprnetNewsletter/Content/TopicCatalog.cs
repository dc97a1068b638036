namespace PprnetNewsletter.Content;

/// <summary>
/// The taxonomy, read once from the database (migrations own it, so it cannot change while running).
/// Topics are matched by slug or by name, case-insensitively.
/// </summary>
public sealed class TopicCatalog(IContentStore store)
{
    readonly Lazy<Task<Loaded>> _loaded = new(async () =>
    {
        // Ordered here rather than by the database, whose collation of names may differ between engines and servers.
        var all = (await store.TopicsAsync()).OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        var byKey = new Dictionary<string, Topic>(StringComparer.OrdinalIgnoreCase);
        foreach (var topic in all)
        {
            byKey[topic.Slug] = topic;
            byKey[topic.Name] = topic;
        }
        return new Loaded(all, byKey, all.ToDictionary(t => t.Id));
    });

    sealed record Loaded(IReadOnlyList<Topic> All, Dictionary<string, Topic> ByKey, Dictionary<long, Topic> ById);

    /// <summary>Every topic, in alphabetical order of name.</summary>
    public async Task<IReadOnlyList<Topic>> AllAsync() => (await _loaded.Value).All;

    /// <summary>The topic with this slug or name (any case, surrounding spaces ignored), or null.</summary>
    public async Task<Topic?> FindAsync(string slugOrName) =>
        (await _loaded.Value).ByKey.GetValueOrDefault(slugOrName.Trim());

    public async Task<Topic> GetAsync(long id) => (await _loaded.Value).ById[id];

    /// <summary>The <paramref name="count"/> topics whose name or slug is nearest to a mistyped one, best first.</summary>
    public async Task<IReadOnlyList<Topic>> ClosestAsync(string slugOrName, int count = 3) =>
        Closest.Find(slugOrName, (await _loaded.Value).All, t => [t.Name, t.Slug], count);
}
