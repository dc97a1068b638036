namespace PprnetNewsletter.Hosting;

public static class ConfigurationSetup
{
    public const string EnvironmentPrefix = "PPRNET_";

    /// <summary>The environment variable that sets configuration key <paramref name="key"/>: "Smtp:Port" is PPRNET_Smtp__Port.</summary>
    public static string EnvironmentVariable(string key) => EnvironmentPrefix + key.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>
    /// config/appsettings.json, then config/appsettings.{Environment}.json, then PPRNET_ environment variables
    /// (PPRNET_Smtp__Port=2525), then <paramref name="overrides"/> (tests). Nothing else: unprefixed
    /// environment variables and command-line arguments are not configuration here.
    /// </summary>
    public static IHostApplicationBuilder AddNewsletterConfiguration(
        this IHostApplicationBuilder builder, IDictionary<string, string?>? overrides)
    {
        var config = builder.Configuration;
        config.Sources.Clear();
        config.SetBasePath(builder.Environment.ContentRootPath)
            .AddJsonFile("config/appsettings.json", optional: false, reloadOnChange: false)
            .AddJsonFile($"config/appsettings.{builder.Environment.EnvironmentName}.json", optional: true, reloadOnChange: false)
            .AddEnvironmentVariables(EnvironmentPrefix);
        if (overrides is not null)
        {
            config.AddInMemoryCollection(overrides);
        }

        builder.Services.AddValidatedOptions<NewsletterOptions>(NewsletterOptions.Section);
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }

    /// <summary>
    /// The service logs at Information to stdout; a one-off verb keeps stdout for its own output and sends
    /// only warnings and errors to stderr.
    /// </summary>
    public static IHostApplicationBuilder AddNewsletterLogging(this IHostApplicationBuilder builder, bool serve)
    {
        builder.Logging.ClearProviders();
        if (string.Equals(builder.Configuration["Logging:Format"], "json", StringComparison.OrdinalIgnoreCase))
        {
            // One JSON object per line, with each message's named values (edition, subscriber id) as fields, for log shippers.
            builder.Logging.AddJsonConsole(o => o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ");
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
        }
        if (serve)
        {
            builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        }
        else
        {
            // A rule added last wins over the configuration's defaults.
            builder.Logging.AddFilter(level => level >= LogLevel.Warning);
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o =>
                o.LogToStandardErrorThreshold = LogLevel.Trace);
        }
        return builder;
    }
}
