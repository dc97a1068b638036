using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Hosting;
using RazorLight;
using RazorLight.Compilation;
using RazorLight.Generation;
using RazorLight.Razor;

namespace PprnetNewsletter.Digests;

/// <summary>
/// The Razor templates of templates/ (Digest:TemplatesPath), compiled once and kept for the life of the process.
/// Each email has an HTML template (NAME.cshtml, in _Layout.cshtml) and a plain-text one (NAME.txt.cshtml, in
/// _Layout.txt.cshtml). Every template is compiled before the first email, so a mistake stops start-up with
/// the file and line instead of failing on the 10,000th email. The files are read once: an edited template
/// takes effect at the next start, never halfway through an edition.
/// </summary>
public sealed class EmailTemplates(IOptions<DigestOptions> options, IHostEnvironment environment)
{
    public const string Digest = "Digest";
    public const string Confirmation = "Confirmation";
    public const string ManagePreferences = "ManagePreferences";

    /// <summary>The emails; each needs both its HTML and its text template.</summary>
    public static readonly IReadOnlyList<string> Emails = [Digest, Confirmation, ManagePreferences];

    const string Extension = ".cshtml";
    const string TextSuffix = ".txt";

    // Compiling takes about 1.5 s; a process that builds several applications (the tests) compiles each
    // folder once. A failed compilation is not kept, so the next attempt reads the files again.
    static readonly ConcurrentDictionary<string, Lazy<Task<Compiled>>> ByFolder = new();

    /// <summary>The absolute templates folder.</summary>
    public string Folder { get; } = AppHome.Resolve(environment.ContentRootPath, options.Value.TemplatesPath);

    /// <summary>Compiles every template (once per process); throws <see cref="TemplateException"/> naming the file and line.</summary>
    public Task CompileAllAsync() => GetCompiledAsync();

    /// <summary>Renders the HTML and the text template of <paramref name="email"/> with <paramref name="model"/>.</summary>
    public async Task<(string Html, string Text)> RenderAsync(string email, EmailModel model)
    {
        var compiled = await GetCompiledAsync();
        var html = await compiled.RenderAsync(compiled.Html, email, model);
        var text = await compiled.RenderAsync(compiled.Text, email + TextSuffix, model);
        return (html, text);
    }

    async Task<Compiled> GetCompiledAsync()
    {
        var lazy = ByFolder.GetOrAdd(Folder, folder => new Lazy<Task<Compiled>>(() => Task.Run(() => CompileAndReclaimAsync(folder))));
        try
        {
            return await lazy.Value;
        }
        catch
        {
            ByFolder.TryRemove(new KeyValuePair<string, Lazy<Task<Compiled>>>(Folder, lazy));
            throw;
        }
    }

    /// <summary>
    /// Compiling with Roslyn leaves tens of megabytes of garbage behind, once per process; an aggressive, compacting
    /// collection right after gives those pages back to the operating system instead of carrying them through a send.
    /// </summary>
    static async Task<Compiled> CompileAndReclaimAsync(string folder)
    {
        var compiled = await Compiled.CreateAsync(folder);
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return compiled;
    }

    sealed class Compiled
    {
        Compiled(string folder, RazorLightEngine html, RazorLightEngine text)
        {
            Folder = folder;
            Html = html;
            Text = text;
        }

        public string Folder { get; }

        /// <summary>Encodes every value it prints: subscriber data can never become markup.</summary>
        public RazorLightEngine Html { get; }

        /// <summary>Prints values as they are: plain text has no markup to escape.</summary>
        public RazorLightEngine Text { get; }

        public static async Task<Compiled> CreateAsync(string folder)
        {
            if (!Directory.Exists(folder))
            {
                throw new TemplateException($"The templates folder {folder} does not exist (Digest:TemplatesPath).");
            }
            var project = new SnapshotProject(folder);
            var compiled = new Compiled(folder, Build(project, encode: true), Build(project, encode: false));
            foreach (var email in Emails)
            {
                if (!project.Has(email) || !project.Has(email + TextSuffix))
                {
                    throw new TemplateException(
                        $"The templates folder {folder} needs {email}{Extension} and {email}{TextSuffix}{Extension}.");
                }
            }
            foreach (var key in project.Keys)
            {
                var engine = key.EndsWith(TextSuffix, StringComparison.Ordinal) ? compiled.Text : compiled.Html;
                await compiled.CompileAsync(engine, key);
            }
            return compiled;
        }

        static RazorLightEngine Build(RazorLightProject project, bool encode)
        {
            var builder = new RazorLightEngineBuilder()
                .UseProject(project)
                .SetOperatingAssembly(typeof(EmailTemplates).Assembly)
                .UseMemoryCachingProvider();
            return (encode ? builder : builder.DisableEncoding()).Build();
        }

        async Task CompileAsync(RazorLightEngine engine, string key)
        {
            try
            {
                await engine.CompileTemplateAsync(key);
            }
            catch (TemplateCompilationException e)
            {
                // Roslyn's position, mapped back to the .cshtml by the #line directives Razor generates (zero-based).
                var first = e.CompilationDiagnostics.FirstOrDefault();
                var line = first?.LineSpan is { } span ? span.StartLinePosition.Line + 1 : (int?)null;
                throw TemplateException.At(Folder, key + Extension, line, first?.ErrorMessage ?? e.Message, e);
            }
            catch (TemplateGenerationException e)
            {
                var diagnostic = e.Diagnostics.FirstOrDefault();
                throw TemplateException.At(Folder, key + Extension, diagnostic is null ? null : diagnostic.Span.LineIndex + 1,
                    diagnostic?.GetMessage(System.Globalization.CultureInfo.InvariantCulture) ?? e.Message, e);
            }
        }

        public async Task<string> RenderAsync(RazorLightEngine engine, string key, EmailModel model)
        {
            // Compiled at start: this is a cache lookup returning a fresh page (pages are not thread-safe).
            var page = await engine.CompileTemplateAsync(key);
            try
            {
                return await engine.RenderTemplateAsync(page, model);
            }
            catch (Exception e) when (e is not TemplateException)
            {
                throw TemplateException.At(Folder, key + Extension, null, $"rendering failed: {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// The template files read into memory once. RazorLight's own file-system project watches the files and
    /// recompiles on change, which would let a half-edited template break an edition mid-send.
    /// </summary>
    sealed class SnapshotProject : RazorLightProject
    {
        readonly Dictionary<string, string> _sources = new(StringComparer.Ordinal);

        public SnapshotProject(string folder)
        {
            // Emails only: subfolders hold other templates (templates/pages/ are the web pages, with their own engine).
            foreach (var path in Directory.EnumerateFiles(folder, "*" + Extension, SearchOption.TopDirectoryOnly).Order(StringComparer.Ordinal))
            {
                _sources[Path.GetFileName(path)[..^Extension.Length]] = File.ReadAllText(path, Encoding.UTF8);
            }
        }

        public IEnumerable<string> Keys => _sources.Keys;

        public bool Has(string key) => _sources.ContainsKey(key);

        public override Task<RazorLightProjectItem> GetItemAsync(string templateKey)
        {
            var key = Normalise(templateKey);
            return Task.FromResult<RazorLightProjectItem>(new Item(key, _sources.GetValueOrDefault(key)));
        }

        public override Task<IEnumerable<RazorLightProjectItem>> GetImportsAsync(string templateKey) =>
            Task.FromResult(Enumerable.Empty<RazorLightProjectItem>());

        public override Task<IEnumerable<string>> GetKnownKeysAsync() => Task.FromResult<IEnumerable<string>>([.. _sources.Keys]);

        // Layout = "_Layout.cshtml" and Layout = "_Layout" name the same template.
        static string Normalise(string key)
        {
            key = key.Replace('\\', '/').TrimStart('/', '~');
            return key.EndsWith(Extension, StringComparison.OrdinalIgnoreCase) ? key[..^Extension.Length] : key;
        }

        sealed class Item(string key, string? source) : RazorLightProjectItem
        {
            public override string Key { get; } = key;

            public override bool Exists => source is not null;

            public override Stream Read() => new MemoryStream(Encoding.UTF8.GetBytes(source ?? ""));
        }
    }
}

/// <summary>A template that cannot be compiled or rendered: the message names the file and, when known, the line.</summary>
public sealed class TemplateException(string message, Exception? inner = null) : Exception(message, inner)
{
    public static TemplateException At(string folder, string file, int? line, string problem, Exception? inner = null) =>
        new($"Template {Path.Combine(folder, file)}{(line is null ? "" : $", line {line}")}: {problem}", inner);
}

/// <summary>Compiles every template as the service starts: a broken template stops start-up.</summary>
sealed class TemplateWarmup(EmailTemplates templates, TimeProvider time, ILogger<TemplateWarmup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        await templates.CompileAllAsync();
        logger.LogInformation("Email templates in {Folder} ready in {Elapsed}", templates.Folder, time.GetElapsedTime(started));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
