using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Hosting;
using RazorLight;

namespace PprnetNewsletter.Web;

/// <summary>
/// Renders the public pages from <c>templates/pages/*.cshtml</c> (RazorLight). Each page model is given the
/// site's identity (footer) and, for pages with forms, an antiforgery token.
/// </summary>
public sealed class PageRenderer(IHostEnvironment environment, IOptions<NewsletterOptions> newsletter, IAntiforgery antiforgery, CompiledTemplateCache cache)
{
    // Compiled pages depend only on the template files, so every application instance in the process (the service,
    // or many tests) shares one engine per folder; the compiled templates are kept on disk like the emails'.
    static readonly OncePerFolder<RazorLightEngine> Engines = new();

    /// <summary>The pages folder: part of <c>templates/</c>, editable without a rebuild (read at start-up).</summary>
    public string Folder { get; } = Path.Combine(environment.ContentRootPath, "templates", "pages");

    /// <summary>Every template, partials and layout included, so start-up fails on a broken one with its file and line.</summary>
    Task<RazorLightEngine> EngineAsync() => EngineFor(Folder, cache);

    /// <summary>The engine of a folder of page templates (the public pages', the dashboard's), compiled once per process.</summary>
    internal static Task<RazorLightEngine> EngineFor(string folder, CompiledTemplateCache cache) => Engines.GetAsync(folder, async folder =>
    {
        var templates = new TemplateSnapshot(folder);
        return (await cache.CompileAsync(templates, templates.Keys, encode: true)).Engine;
    });

    public Task CompileAllAsync() => EngineAsync();

    public async Task<string> RenderAsync(HttpContext http, string page, PageModel model)
    {
        model.Site = SiteInfo.From(newsletter.Value);
        if (model is FormPageModel form)
        {
            var tokens = antiforgery.GetAndStoreTokens(http);
            form.Antiforgery = new AntiforgeryField(tokens.FormFieldName, tokens.RequestToken ?? "");
        }
        return await (await EngineAsync()).CompileRenderAsync(page, model);
    }
}

/// <summary>Compiles every page at start-up: a template error stops the service with the file and line.</summary>
sealed class PageCompiler(PageRenderer renderer, ILogger<PageCompiler> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await renderer.CompileAllAsync();
        logger.LogDebug("Pages compiled from {Folder}", renderer.Folder);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
