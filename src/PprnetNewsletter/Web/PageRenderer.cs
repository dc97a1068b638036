using System.Collections.Concurrent;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Hosting;
using RazorLight;

namespace PprnetNewsletter.Web;

/// <summary>
/// Renders the public pages from <c>templates/pages/*.cshtml</c> (RazorLight). Each page model is given the
/// site's identity (footer) and, for pages with forms, an antiforgery token.
/// </summary>
public sealed class PageRenderer(IHostEnvironment environment, IOptions<NewsletterOptions> newsletter, IAntiforgery antiforgery)
{
    // Compiling a template costs hundreds of milliseconds; compiled pages depend only on the template files,
    // so every application instance in the process (the service, or many tests) shares one engine per folder.
    static readonly ConcurrentDictionary<string, Lazy<RazorLightEngine>> Engines = new();

    /// <summary>The pages folder: part of <c>templates/</c>, editable without a rebuild (read at start-up).</summary>
    public string Folder { get; } = Path.Combine(environment.ContentRootPath, "templates", "pages");

    RazorLightEngine Engine => Engines.GetOrAdd(Folder, folder => new Lazy<RazorLightEngine>(() =>
        new RazorLightEngineBuilder().UseFileSystemProject(folder).UseMemoryCachingProvider().Build())).Value;

    /// <summary>Every page template, so start-up fails on a broken template rather than a visitor's request.</summary>
    public IEnumerable<string> PageNames =>
        Directory.EnumerateFiles(Folder, "*.cshtml").Select(Path.GetFileNameWithoutExtension).OfType<string>()
            .Where(name => !name.StartsWith('_'));

    public async Task CompileAllAsync()
    {
        foreach (var page in PageNames)
        {
            await Engine.CompileTemplateAsync(page + ".cshtml");
        }
    }

    public async Task<string> RenderAsync(HttpContext http, string page, PageModel model)
    {
        model.Site = new SiteInfo(newsletter.Value.FromName, newsletter.Value.PostalAddress, newsletter.Value.ContactEmail);
        if (model is FormPageModel form)
        {
            var tokens = antiforgery.GetAndStoreTokens(http);
            form.Antiforgery = new AntiforgeryField(tokens.FormFieldName, tokens.RequestToken ?? "");
        }
        return await Engine.CompileRenderAsync(page + ".cshtml", model);
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
