using System.Text;
using RazorLight.Razor;

namespace PprnetNewsletter.Digests;

/// <summary>
/// The Razor templates of one folder (its <c>*.cshtml</c> files, not its subfolders), read into memory once.
/// RazorLight's own file-system project watches the files and recompiles on change, which would let a
/// half-edited template break an edition mid-send; a snapshot makes an edit take effect at the next start.
/// A template's key is its file name without <c>.cshtml</c>: <c>Layout = "_Layout"</c> and
/// <c>Layout = "_Layout.cshtml"</c> name the same template.
/// </summary>
public sealed class TemplateSnapshot : RazorLightProject
{
    public const string Extension = ".cshtml";

    readonly SortedDictionary<string, string> _sources = new(StringComparer.Ordinal);

    public TemplateSnapshot(string folder)
    {
        Folder = folder;
        foreach (var path in Directory.EnumerateFiles(folder, "*" + Extension, SearchOption.TopDirectoryOnly))
        {
            _sources[Path.GetFileName(path)[..^Extension.Length]] = File.ReadAllText(path, Encoding.UTF8);
        }
    }

    /// <summary>The absolute folder the templates were read from.</summary>
    public string Folder { get; }

    /// <summary>Every template's key, in ordinal order.</summary>
    public IEnumerable<string> Keys => _sources.Keys;

    /// <summary>Every template's key and source, in ordinal order of the keys.</summary>
    public IEnumerable<KeyValuePair<string, string>> Sources => _sources;

    public bool Has(string key) => _sources.ContainsKey(key);

    /// <summary>The key <paramref name="templateKey"/> names, however a template wrote it.</summary>
    public static string Normalise(string templateKey)
    {
        var key = templateKey.Replace('\\', '/').TrimStart('/', '~');
        return key.EndsWith(Extension, StringComparison.OrdinalIgnoreCase) ? key[..^Extension.Length] : key;
    }

    public override Task<RazorLightProjectItem> GetItemAsync(string templateKey)
    {
        var key = Normalise(templateKey);
        return Task.FromResult<RazorLightProjectItem>(new Item(key, _sources.GetValueOrDefault(key)));
    }

    public override Task<IEnumerable<RazorLightProjectItem>> GetImportsAsync(string templateKey) =>
        Task.FromResult(Enumerable.Empty<RazorLightProjectItem>());

    public override Task<IEnumerable<string>> GetKnownKeysAsync() => Task.FromResult<IEnumerable<string>>([.. _sources.Keys]);

    sealed class Item(string key, string? source) : RazorLightProjectItem
    {
        public override string Key { get; } = key;

        public override bool Exists => source is not null;

        public override Stream Read() => new MemoryStream(Encoding.UTF8.GetBytes(source ?? ""));
    }
}
