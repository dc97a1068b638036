using System.Collections.Concurrent;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using PprnetNewsletter.Hosting;
using RazorLight;
using RazorLight.Caching;
using RazorLight.Compilation;
using RazorLight.Generation;
using RazorLight.Razor;

namespace PprnetNewsletter.Digests;

/// <summary>A RazorLight engine with its templates compiled; <see cref="Compiled"/> is false when they all came from the cache.</summary>
public sealed record CachedEngine(RazorLightEngine Engine, bool Compiled);

/// <summary>
/// Compiled Razor templates kept on disk (Digest:CompiledTemplatesPath). Compiling loads Roslyn and the Razor code
/// generator: a process that did it carries ~140 MB more and its JIT keeps tiering the compiler up for seconds. Templates
/// rarely change, so a process whose templates match a cache entry loads the compiled assemblies and never builds a
/// compiler. An entry holds one folder's templates in one flavour (HTML-encoding or not); its name carries a SHA-256 of
/// everything the compiled code depends on (see <see cref="EntryKey"/>), so any change is a miss, never a stale hit.
/// A damaged or unloadable entry is logged and compiled again; entries are written whole (temporary file, then rename),
/// so a crash or two processes at once never leave a torn one.
/// </summary>
public sealed class CompiledTemplateCache(IOptions<DigestOptions> options, IHostEnvironment environment, ILogger<CompiledTemplateCache> logger)
{
    const string EntryExtension = ".templates";
    const int FormatVersion = 1;
    static readonly byte[] Magic = "PPRNET-COMPILED-TEMPLATES"u8.ToArray();
    static readonly Assembly Host = typeof(CompiledTemplateCache).Assembly;

    /// <summary>The absolute cache folder.</summary>
    public string Folder { get; } = AppHome.Resolve(environment.ContentRootPath, options.Value.CompiledTemplatesPath);

    /// <summary>
    /// An engine for <paramref name="templates"/> with each of <paramref name="keys"/> compiled: loaded from the cache
    /// entry when there is one, else compiled (a mistake throws <see cref="TemplateException"/> with file and line) and stored.
    /// </summary>
    public async Task<CachedEngine> CompileAsync(TemplateSnapshot templates, IEnumerable<string> keys, bool encode)
    {
        var entryPrefix = $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(templates.Folder))}-{(encode ? "html" : "text")}-";
        var entryKey = EntryKey(templates, encode);
        var path = Path.Combine(Folder, entryPrefix + entryKey + EntryExtension);

        var store = new TemplateStore();
        Load(path, entryKey, store);
        var compiler = new CompilerOnDemand(() => new RazorLightEngineBuilder()
            .UseProject(templates)
            .SetOperatingAssembly(Host)
            .UseCachingProvider(store) // also RazorLight's precompile callback: it hands the store each emitted assembly
            .Build().Handler.Compiler);
        var engineOptions = new RazorLightOptions { OperatingAssembly = Host, DisableEncoding = !encode, CachingProvider = store };
        var engine = new RazorLightEngine(new EngineHandler(engineOptions, compiler, new TemplateFactoryProvider(), store));

        foreach (var key in keys)
        {
            await CompileAsync(engine, templates, key);
        }
        if (compiler.Built)
        {
            Save(path, entryKey, entryPrefix, store);
        }
        return new CachedEngine(engine, compiler.Built);
    }

    /// <summary>
    /// SHA-256 over what the compiled code depends on: every template's name and content, the flavour, this build of the
    /// application (its MVID: the generated code uses our model types, so a rebuilt application must miss), RazorLight's
    /// version and this file format's.
    /// </summary>
    static string EntryKey(TemplateSnapshot templates, bool encode)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            hash.AppendData(BitConverter.GetBytes(bytes.Length)); // length-prefixed: ("ab", "c") and ("a", "bc") differ
            hash.AppendData(bytes);
        }
        Add(FormatVersion.ToString());
        Add(encode ? "encode" : "no-encode");
        Add(Host.ManifestModule.ModuleVersionId.ToString());
        var razorLight = typeof(RazorLightEngine).Assembly;
        Add($"{razorLight.GetName().Version} {razorLight.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion}");
        foreach (var (name, source) in templates.Sources)
        {
            Add(name);
            Add(source);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    static async Task CompileAsync(RazorLightEngine engine, TemplateSnapshot templates, string key)
    {
        try
        {
            await engine.CompileTemplateAsync(key);
        }
        catch (TemplateCompilationException e)
        {
            throw CompilationError(templates, key, e);
        }
        catch (TemplateGenerationException e)
        {
            throw GenerationError(templates, key, e);
        }
    }

    // The two errors' details are Roslyn's and the Razor code generator's types: mapped in methods of their own, so those
    // assemblies load only when a template is wrong, not in every process that loads the templates from the cache.

    /// <summary>Roslyn's position, mapped back to the .cshtml by the #line directives Razor generates (zero-based).</summary>
    static TemplateException CompilationError(TemplateSnapshot templates, string key, TemplateCompilationException e)
    {
        var first = e.CompilationDiagnostics.FirstOrDefault();
        var line = first?.LineSpan is { } span ? span.StartLinePosition.Line + 1 : (int?)null;
        return TemplateException.At(templates.Folder, key + TemplateSnapshot.Extension, line, first?.ErrorMessage ?? e.Message, e);
    }

    /// <summary>A Razor syntax error, at its (zero-based) line.</summary>
    static TemplateException GenerationError(TemplateSnapshot templates, string key, TemplateGenerationException e)
    {
        var diagnostic = e.Diagnostics.FirstOrDefault();
        return TemplateException.At(templates.Folder, key + TemplateSnapshot.Extension, diagnostic is null ? null : diagnostic.Span.LineIndex + 1,
            diagnostic?.GetMessage(System.Globalization.CultureInfo.InvariantCulture) ?? e.Message, e);
    }

    /// <summary>Fills <paramref name="store"/> from the entry at <paramref name="path"/>, if there is a sound one.</summary>
    void Load(string path, string entryKey, TemplateStore store)
    {
        if (!File.Exists(path))
        {
            // Compiling takes tens of seconds on a small machine: say so, or a first start looks hung.
            logger.LogInformation("Compiling templates (first start after a template change or an upgrade only; this can take a minute), "
                + "to be kept in {Path}…", path);
            return;
        }
        try
        {
            foreach (var (key, assembly) in EntryFile.Read(path, entryKey))
            {
                store.Load(key, assembly);
            }
            logger.LogDebug("Compiled templates loaded from {Path}", path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or BadImageFormatException or FileLoadException)
        {
            store.Clear();
            logger.LogWarning(e, "The compiled templates at {Path} cannot be used ({Problem}); compiling them again", path, e.Message);
        }
    }

    /// <summary>Writes the entry and removes the older entries of the same folder and flavour; a failure only costs a compile next time.</summary>
    void Save(string path, string entryKey, string entryPrefix, TemplateStore store)
    {
        try
        {
            Directory.CreateDirectory(Folder);
            EntryFile.Write(path, entryKey, store.Assemblies);
            logger.LogInformation("Compiled templates cached in {Path}", path);
            foreach (var stale in Directory.EnumerateFiles(Folder, entryPrefix + "*" + EntryExtension).Where(p => p != path))
            {
                File.Delete(stale);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(e, "Could not cache the compiled templates in {Path}; they will be compiled again by the next process", path);
        }
    }

    /// <summary>
    /// An entry file: a header (magic, format version, entry key), each template's key and assembly, then a SHA-256 of all
    /// that, so a damaged file is refused instead of loading code that fails halfway through an edition.
    /// </summary>
    static class EntryFile
    {
        const int HashBytes = 32;

        public static void Write(string path, string entryKey, IEnumerable<KeyValuePair<string, byte[]>> assemblies)
        {
            using var payload = new MemoryStream();
            using (var writer = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(FormatVersion);
                writer.Write(entryKey);
                var list = assemblies.ToList();
                writer.Write(list.Count);
                foreach (var (key, assembly) in list)
                {
                    writer.Write(key);
                    writer.Write(assembly.Length);
                    writer.Write(assembly);
                }
            }
            var temporary = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
            try
            {
                using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
                {
                    file.Write(payload.GetBuffer(), 0, (int)payload.Length);
                    file.Write(SHA256.HashData(payload.GetBuffer().AsSpan(0, (int)payload.Length)));
                    file.Flush(flushToDisk: true);
                }
                File.Move(temporary, path, overwrite: true);
            }
            finally
            {
                File.Delete(temporary);
            }
        }

        public static List<(string Key, byte[] Assembly)> Read(string path, string entryKey)
        {
            var data = File.ReadAllBytes(path);
            if (data.Length < Magic.Length + HashBytes
                || !SHA256.HashData(data.AsSpan(0, data.Length - HashBytes)).AsSpan().SequenceEqual(data.AsSpan(data.Length - HashBytes)))
            {
                throw new InvalidDataException("the file is damaged: its checksum does not match");
            }
            using var reader = new BinaryReader(new MemoryStream(data, 0, data.Length - HashBytes), Encoding.UTF8);
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic) || reader.ReadInt32() != FormatVersion || reader.ReadString() != entryKey)
            {
                throw new InvalidDataException("the file is not an entry for these templates");
            }
            var templates = new List<(string, byte[])>();
            for (var count = reader.ReadInt32(); count > 0; count--)
            {
                var key = reader.ReadString();
                var length = reader.ReadInt32();
                var assembly = reader.ReadBytes(length);
                if (assembly.Length != length)
                {
                    throw new InvalidDataException("the file ends too early");
                }
                templates.Add((key, assembly));
            }
            return templates;
        }
    }

    /// <summary>
    /// The engine's template cache, keyed by <see cref="TemplateSnapshot.Normalise"/>d keys, holding the assembly of every
    /// template it knows (loaded from an entry or, as RazorLight's precompile callback, freshly emitted) to write the entry.
    /// </summary>
    sealed class TemplateStore : ICachingProvider, IPrecompileCallback
    {
        readonly ConcurrentDictionary<string, Func<ITemplatePage>> _factories = new(StringComparer.Ordinal);
        readonly ConcurrentDictionary<string, byte[]> _assemblies = new(StringComparer.Ordinal);
        readonly TemplateFactoryProvider _factoryProvider = new();

        public IEnumerable<KeyValuePair<string, byte[]>> Assemblies => _assemblies.OrderBy(pair => pair.Key, StringComparer.Ordinal);

        /// <summary>Loads a template's assembly from an entry: no compiler involved.</summary>
        public void Load(string key, byte[] assembly)
        {
            var attribute = Assembly.Load(assembly).GetCustomAttribute<RazorLightTemplateAttribute>()
                ?? throw new InvalidDataException($"the assembly of template {key} is not a compiled template");
            _factories[key] = _factoryProvider.CreateFactory(new CompiledTemplateDescriptor { TemplateKey = key, TemplateAttribute = attribute });
            _assemblies[key] = assembly;
        }

        public void Clear()
        {
            _factories.Clear();
            _assemblies.Clear();
        }

        public void Invoke(IGeneratedRazorTemplate generatedRazorTemplate, byte[] rawAssembly, byte[] rawSymbolStore) =>
            _assemblies[TemplateSnapshot.Normalise(generatedRazorTemplate.TemplateKey)] = rawAssembly;

        public TemplateCacheLookupResult RetrieveTemplate(string key) =>
            _factories.TryGetValue(TemplateSnapshot.Normalise(key), out var factory)
                ? new TemplateCacheLookupResult(new TemplateCacheItem(key, factory))
                : new TemplateCacheLookupResult();

        public void CacheTemplate(string key, Func<ITemplatePage> pageFactory, IChangeToken expirationToken) =>
            _factories[TemplateSnapshot.Normalise(key)] = pageFactory;

        public bool Contains(string key) => _factories.ContainsKey(TemplateSnapshot.Normalise(key));

        public void Remove(string key) => _factories.TryRemove(TemplateSnapshot.Normalise(key), out _);
    }

    /// <summary>RazorLight's compiler, built the first time a template is missing from the cache: building it loads Roslyn.</summary>
    sealed class CompilerOnDemand(Func<IRazorTemplateCompiler> build) : IRazorTemplateCompiler
    {
        readonly Lazy<IRazorTemplateCompiler> _compiler = new(build);

        public bool Built => _compiler.IsValueCreated;

        public ICompilationService CompilationService => _compiler.Value.CompilationService;

        public Task<CompiledTemplateDescriptor> CompileAsync(string templateKey) => _compiler.Value.CompileAsync(templateKey);
    }
}
