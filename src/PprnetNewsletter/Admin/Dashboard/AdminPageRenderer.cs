using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Web;
using RazorLight;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>
/// Renders the dashboard from <c>templates/admin/*.cshtml</c> (RazorLight), like the public pages: each model gets the
/// site's identity, the signed-in administrator and an antiforgery token (every dashboard page has the sign-out form).
/// </summary>
public sealed class AdminPageRenderer(IHostEnvironment environment, IOptions<NewsletterOptions> newsletter, IAntiforgery antiforgery,
    CompiledTemplateCache cache)
{
    public string Folder { get; } = Path.Combine(environment.ContentRootPath, "templates", "admin");

    Task<RazorLightEngine> EngineAsync() => PageRenderer.EngineFor(Folder, cache);

    public Task CompileAllAsync() => EngineAsync();

    public async Task<string> RenderAsync(HttpContext http, string page, AdminPage model)
    {
        model.Site = SiteInfo.From(newsletter.Value);
        model.AdminEmail = http.User.Identity?.IsAuthenticated == true ? http.User.FindFirstValue(ClaimTypes.Name) : null;
        var tokens = antiforgery.GetAndStoreTokens(http);
        model.Antiforgery = new AntiforgeryField(tokens.FormFieldName, tokens.RequestToken ?? "");
        return await (await EngineAsync()).CompileRenderAsync(page, model);
    }
}

/// <summary>Compiles the dashboard's templates at start-up: a template error stops the service with the file and line.</summary>
sealed class AdminPageCompiler(AdminPageRenderer renderer) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => renderer.CompileAllAsync();

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Results that render a dashboard template.</summary>
public static class AdminPages
{
    public static IResult Show(string page, AdminPage model, int statusCode = StatusCodes.Status200OK) =>
        new HtmlResult(http => http.RequestServices.GetRequiredService<AdminPageRenderer>().RenderAsync(http, page, model), statusCode);

    /// <summary>A heading and a few paragraphs in the dashboard's frame.</summary>
    public static IResult Message(int statusCode, string title, params string[] paragraphs) =>
        Show("message", new AdminMessagePage { Title = title, Paragraphs = paragraphs }, statusCode);
}
