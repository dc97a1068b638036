using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;
using PprnetNewsletter.Admin;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Observability;

public static class ObservabilitySetup
{
    public const string MetricsPath = "/metrics";

    /// <summary>Metrics through OpenTelemetry (Prometheus text), and the health checks beyond the database's.</summary>
    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        builder.AddStore<IMetricsQueries, SqliteMetricsQueries, PgMetricsQueries>();
        builder.Services.AddSingleton<NewsletterMetrics>();
        // MailKit measures each SMTP operation (a message's send is one: MAIL FROM to the reply after DATA).
        MailKit.Telemetry.SmtpClient.Configure();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(NewsletterMetrics.MeterName, MailKit.Telemetry.SmtpClient.MeterName)
            .AddPrometheusExporter());
        builder.Services.AddHealthChecks()
            .AddCheck<SmtpReachabilityCheck>("smtp")
            .AddCheck<SchedulerCheck>("scheduler")
            .AddCheck<DiskSpaceCheck>("disk");
        builder.Services.Configure<HealthCheckOptions>(health => health.ResponseWriter = WriteHealthAsync);
        return builder;
    }

    /// <summary>GET /metrics behind the admin key (it tells how many subscribers and messages there are).</summary>
    public static WebApplication MapMetrics(this WebApplication app)
    {
        // The observable instruments are created with the service, so the first scrape already has them.
        app.Services.GetRequiredService<NewsletterMetrics>();
        app.UseWhen(context => context.Request.Path.StartsWithSegments(MetricsPath), metrics => metrics.Use(async (context, next) =>
        {
            if (await AdminSetup.RefuseAsync(context))
            {
                return;
            }
            await next(context);
        }));
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        return app;
    }

    /// <summary>
    /// /health answers as before ("Healthy", "Degraded" or "Unhealthy" as text) for load balancers; asked for JSON
    /// (Accept: application/json), it gives every check with its description: the relay, the schedule's next run,
    /// the free disk space.
    /// </summary>
    public static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        if (!context.Request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)))
        {
            context.Response.ContentType = "text/plain";
            return context.Response.WriteAsync(report.Status.ToString());
        }
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description, data = e.Value.Data }),
        }));
    }
}
