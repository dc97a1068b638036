using Microsoft.Extensions.Logging;

namespace PprnetNewsletter.Tests.Support;

/// <summary>
/// A logging provider that keeps every line of one category, added to a built app's logger factory
/// (<c>app.Services.GetRequiredService&lt;ILoggerFactory&gt;().AddProvider(...)</c>) to see what a running app says.
/// </summary>
public sealed class LogLines(string category) : ILoggerProvider
{
    readonly LogCapture<LogLines> _capture = new();

    public IReadOnlyList<string> Messages => [.. _capture.Entries.Select(e => e.Message)];

    public ILogger CreateLogger(string categoryName) => categoryName == category ? _capture : NullLogger;

    public void Dispose()
    {
    }

    static readonly ILogger NullLogger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
}
