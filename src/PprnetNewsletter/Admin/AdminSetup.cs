using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using PprnetNewsletter.Bounces;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Web;

namespace PprnetNewsletter.Admin;

public static class AdminSetup
{
    public const string RoutePrefix = "/admin/api";

    const string BearerScheme = "bearer";

    /// <summary>Admin API credential and services, and its OpenAPI document.</summary>
    public static WebApplicationBuilder AddAdmin(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<AdminOptions>(AdminOptions.Section);
        // A body that cannot be bound (malformed JSON) reaches the error handler, whose problem details say why.
        builder.Services.Configure<RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = true);
        builder.AddStore<IAdminQueries, SqliteAdminQueries, PgAdminQueries>();
        builder.Services.AddSingleton<FailedAdminAttempts>();
        builder.Services.AddOpenApi(openApi =>
        {
            openApi.ShouldInclude = endpoint => endpoint.RelativePath?.StartsWith("admin/api", StringComparison.Ordinal) == true;
            openApi.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "PPRNet Newsletter admin API";
                document.Info.Description = "Send 'Authorization: Bearer <Admin:ApiKey>' with every call. Errors are RFC 9457 problem details.";
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "The value of Admin:ApiKey.",
                };
                document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];
                // The generated "servers" entry repeats the request's Host header; the paths are relative anyway.
                document.Servers = [];
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    /// <summary>
    /// The admin API under /admin/api and its OpenAPI document at /openapi/v1.json, both behind the bearer key.
    /// The key is checked before routing to an endpoint, so a caller without it learns nothing, not even
    /// which paths exist or what a valid body looks like.
    /// </summary>
    public static WebApplication MapAdminApi(this WebApplication app)
    {
        app.UseWhen(context => context.Request.Path.StartsWithSegments(RoutePrefix) || context.Request.Path.StartsWithSegments("/openapi"),
            admin => admin.Use(async (context, next) =>
        {
            if (await RefuseAsync(context))
            {
                return;
            }
            await next(context);
        }));
        var api = app.MapGroup(RoutePrefix);
        api.MapSubscriberEndpoints();
        api.MapEditionEndpoints();
        api.MapBounceEndpoints();
        app.MapOpenApi();
        return app;
    }

    /// <summary>Answers 403 when no key is configured and 401 when the request does not carry it.</summary>
    internal static async Task<bool> RefuseAsync(HttpContext context)
    {
        var key = context.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value.ApiKey;
        if (string.IsNullOrWhiteSpace(key))
        {
            await ErrorResponses.WriteAsync(context, StatusCodes.Status403Forbidden, "The admin API is disabled",
                "No admin key is configured. Set Admin:ApiKey (environment variable PPRNET_Admin__ApiKey) to a long random " +
                "secret and send it as 'Authorization: Bearer <key>'.");
            return true;
        }
        var failures = context.RequestServices.GetRequiredService<FailedAdminAttempts>();
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (failures.Blocked(address) is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await ErrorResponses.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too many wrong admin keys",
                "Too many requests with a wrong admin key came from your address. Wait until the time in Retry-After has passed.");
            return true;
        }
        if (!CarriesKey(context.Request.Headers.Authorization.ToString(), key))
        {
            failures.Record(address);
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AdminSetup))
                .LogWarning("Wrong or missing admin key from {Address} for {Method} {Path}", address, context.Request.Method, context.Request.Path);
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await ErrorResponses.WriteAsync(context, StatusCodes.Status401Unauthorized, "Not authenticated",
                "Send the admin key (Admin:ApiKey) as 'Authorization: Bearer <key>'.");
            return true;
        }
        return false;
    }

    /// <summary>Compares in constant time (over fixed-length hashes, so not even the key's length leaks).</summary>
    static bool CarriesKey(string authorization, string key)
    {
        const string scheme = "Bearer ";
        var presented = authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? authorization[scheme.Length..].Trim() : "";
        return CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }
}
