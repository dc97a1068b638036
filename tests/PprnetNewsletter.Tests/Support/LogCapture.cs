using Microsoft.Extensions.Logging;

namespace PprnetNewsletter.Tests.Support;

/// <summary>A logger that keeps what it is given, to assert on what the application says and at which level.</summary>
public sealed class LogCapture<T> : ILogger<T>
{
    readonly Lock _lock = new();
    readonly List<(LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (_lock)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lock)
        {
            _entries.Add((logLevel, formatter(state, exception)));
        }
    }
}
