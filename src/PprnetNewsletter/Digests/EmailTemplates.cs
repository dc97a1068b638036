using Microsoft.Extensions.Options;
using PprnetNewsletter.Hosting;
using RazorLight;

namespace PprnetNewsletter.Digests;

/// <summary>
/// The Razor templates of templates/ (Digest:TemplatesPath), compiled once and kept for the life of the process.
/// Each email has an HTML template (NAME.cshtml, in _Layout.cshtml) and a plain-text one (NAME.txt.cshtml, in
/// _Layout.txt.cshtml). Every template is compiled before the first email, so a mistake stops start-up with
/// the file and line instead of failing on the 10,000th email. The files are read once: an edited template
/// takes effect at the next start, never halfway through an edition. Compiled templates are kept on disk
/// (<see cref="CompiledTemplateCache"/>), so a process whose templates are unchanged compiles nothing.
/// </summary>
public sealed class EmailTemplates(IOptions<DigestOptions> options, IHostEnvironment environment, CompiledTemplateCache cache)
{
    public const string Digest = "Digest";
    public const string Confirmation = "Confirmation";
    public const string ManagePreferences = "ManagePreferences";

    /// <summary>The emails; each needs both its HTML and its text template.</summary>
    public static readonly IReadOnlyList<string> Emails = [Digest, Confirmation, ManagePreferences];

    const string TextSuffix = ".txt";

    // Compiling takes about 1.5 s; a process that builds several applications (the tests) compiles each folder once.
    static readonly OncePerFolder<Compiled> ByFolder = new();

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

    /// <summary>Forgets the templates of <paramref name="folder"/> compiled in this process, as if it were a new one.</summary>
    internal static void ForgetCompiled(string folder) => ByFolder.Forget(folder);

    Task<Compiled> GetCompiledAsync() => ByFolder.GetAsync(Folder, folder => Compiled.CreateAsync(folder, cache));

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

        public static async Task<Compiled> CreateAsync(string folder, CompiledTemplateCache cache)
        {
            if (!Directory.Exists(folder))
            {
                throw new TemplateException($"The templates folder {folder} does not exist (Digest:TemplatesPath).");
            }
            var templates = new TemplateSnapshot(folder);
            foreach (var email in Emails)
            {
                if (!templates.Has(email) || !templates.Has(email + TextSuffix))
                {
                    throw new TemplateException(
                        $"The templates folder {folder} needs {email}{TemplateSnapshot.Extension} and {email}{TextSuffix}{TemplateSnapshot.Extension}.");
                }
            }
            var html = await cache.CompileAsync(templates, templates.Keys.Where(key => !IsText(key)), encode: true);
            var text = await cache.CompileAsync(templates, templates.Keys.Where(IsText), encode: false);
            if (html.Compiled || text.Compiled)
            {
                Reclaim();
            }
            return new Compiled(folder, html.Engine, text.Engine);
        }

        static bool IsText(string key) => key.EndsWith(TextSuffix, StringComparison.Ordinal);

        /// <summary>
        /// Compiling with Roslyn leaves tens of megabytes of garbage behind, once per process; an aggressive, compacting
        /// collection right after gives those pages back to the operating system instead of carrying them through a send.
        /// </summary>
        static void Reclaim() => GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);

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
                throw TemplateException.At(Folder, key + TemplateSnapshot.Extension, null, $"rendering failed: {e.Message}", e);
            }
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
