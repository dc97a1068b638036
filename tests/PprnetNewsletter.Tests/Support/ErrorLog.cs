using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PprnetNewsletter.Tests.Support;

/// <summary>Collects what a test app logs at error level or above (with any exception), from the moment it is attached.</summary>
public sealed class ErrorLog : ILoggerProvider
{
    readonly ConcurrentQueue<string> _entries = new();

    public IReadOnlyCollection<string> Entries => _entries;

    public static ErrorLog AttachTo(TestApp test)
    {
        var log = new ErrorLog();
        // The factory hands the new provider to loggers it made already, so the app's handlers report to it too.
        test.App.Services.GetRequiredService<ILoggerFactory>().AddProvider(log);
        return log;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    sealed class Logger(string category, ConcurrentQueue<string> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                entries.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
            }
        }
    }
}
