using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Admin.Dashboard;

public static class DashboardSetup
{
    /// <summary>The dashboard's cookie scheme; the admin API keeps its bearer key and knows nothing of it.</summary>
    public const string Scheme = "pprnet-admin";

    public const string SignInPath = "/admin/signin";

    /// <summary>
    /// Scripts only from this origin (the live progress bar's one file), frames only of this origin (the digest preview),
    /// and still no inline script or style.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; frame-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>Administrator accounts and the audit log: what the <c>admins</c> verb and the dashboard share.</summary>
    public static IHostApplicationBuilder AddAdminAccounts(this IHostApplicationBuilder builder)
    {
        builder.AddStore<IAdminAccountStore, SqliteAdminAccountStore, PgAdminAccountStore>();
        builder.AddStore<IAuditStore, SqliteAuditStore, PgAuditStore>();
        builder.Services.AddSingleton<AdminAccounts>();
        builder.Services.AddSingleton<AuditLog>();
        return builder;
    }

    /// <summary>The dashboard: cookie sign-in with lockout, page rendering, the live progress feed.</summary>
    public static WebApplicationBuilder AddDashboard(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<DashboardOptions>(DashboardOptions.Section);
        builder.Services.AddSingleton<SignInThrottle>();
        builder.Services.AddSingleton<AdminPageRenderer>();
        builder.AddStore<IDashboardQueries, SqliteDashboardQueries, PgDashboardQueries>();
        builder.Services.AddHostedService<AdminPageCompiler>();
        builder.Services.AddAuthorization();
        builder.Services.AddAuthentication(Scheme).AddCookie(Scheme, cookie =>
        {
            cookie.Cookie.Name = "pprnet-admin";
            cookie.Cookie.Path = "/admin";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            // Secure whenever the request came over https (directly or through a trusted proxy).
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.SlidingExpiration = true;
            cookie.LoginPath = SignInPath;
            cookie.LogoutPath = "/admin/signout";
            cookie.AccessDeniedPath = SignInPath;
            cookie.ReturnUrlParameter = "returnUrl";
            cookie.Events.OnValidatePrincipal = async context =>
            {
                // A removed administrator's open sessions end at their next request.
                var email = context.Principal?.FindFirstValue(ClaimTypes.Name);
                if (email is null || !await context.HttpContext.RequestServices.GetRequiredService<AdminAccounts>().ExistsAsync(email))
                {
                    context.RejectPrincipal();
                    await context.HttpContext.SignOutAsync(Scheme);
                }
            };
        });
        builder.Services.AddOptions<CookieAuthenticationOptions>(Scheme).Configure<IOptions<DashboardOptions>, TimeProvider>((cookie, dashboard, time) =>
        {
            cookie.ExpireTimeSpan = dashboard.Value.SessionLifetime;
            cookie.TimeProvider = time;
        });
        return builder;
    }

    /// <summary>
    /// The dashboard under /admin: every page needs a signed-in administrator (without one: a redirect to the
    /// sign-in page), except the sign-in page itself and the dashboard's style sheet and script.
    /// </summary>
    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.UseWhen(IsDashboard, dashboard => dashboard.Use(async (context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                context.Response.Headers.CacheControl = "no-store";
                if (string.IsNullOrEmpty(context.Response.Headers.ContentSecurityPolicy))
                {
                    context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
                }
                return Task.CompletedTask;
            });
            await next(context);
        }));
        app.UseAuthentication();
        app.UseAuthorization();

        var assets = app.MapGroup("/admin").AllowAnonymous().ExcludeFromDescription();
        assets.MapGet("/admin.css", (AdminPageRenderer pages) => Results.File(Path.Combine(pages.Folder, "admin.css"), "text/css; charset=utf-8"));
        assets.MapGet("/dashboard.js", (AdminPageRenderer pages) => Results.File(Path.Combine(pages.Folder, "dashboard.js"), "text/javascript; charset=utf-8"));
        assets.MapSignInPages();

        var admin = app.MapGroup("/admin").RequireAuthorization(policy => policy.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser())
            .ExcludeFromDescription();
        admin.MapEditionPages();
        admin.MapContentPages();
        admin.MapSubscriberPages();
        admin.MapAuditPages();
        // The metrics of /metrics for a signed-in administrator, who has a session rather than the scrapers' key.
        admin.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    static bool IsDashboard(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/admin") && !context.Request.Path.StartsWithSegments(AdminSetup.RoutePrefix);
}
