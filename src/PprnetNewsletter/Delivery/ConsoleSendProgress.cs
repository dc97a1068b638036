using System.Globalization;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// The live progress line of `digest send` on stderr: redrawn in place on a terminal (a few times a second),
/// or a plain line every few seconds when stderr is a file or a pipe. Reported synchronously from the engine.
/// </summary>
public sealed class ConsoleSendProgress(TextWriter output, bool interactive, TimeProvider clock) : IProgress<SendProgress>
{
    readonly TimeSpan _every = interactive ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromSeconds(5);
    readonly Lock _lock = new();
    long _lastTimestamp;
    SendProgress? _last;
    SendProgress? _shown;
    int _width;

    public static ConsoleSendProgress ForStandardError(TimeProvider clock) => new(Console.Error, !Console.IsErrorRedirected, clock);

    public void Report(SendProgress value)
    {
        lock (_lock)
        {
            _last = value;
            if (_lastTimestamp != 0 && clock.GetElapsedTime(_lastTimestamp) < _every)
            {
                return;
            }
            _lastTimestamp = clock.GetTimestamp();
            Write(value);
        }
    }

    /// <summary>Writes the last state (whatever the throttle held back) and ends the line.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            // The last state is written only if its counts are not on screen yet: the same line is not repeated.
            if (_last is not null && (_shown is null || _last with { RatePerSecond = _shown.RatePerSecond, Eta = _shown.Eta } != _shown))
            {
                Write(_last);
            }
            if (interactive && _width > 0)
            {
                output.WriteLine();
            }
            _width = 0;
        }
    }

    void Write(SendProgress p)
    {
        _shown = p;
        var line = Format(p);
        if (interactive)
        {
            output.Write("\r" + line.PadRight(_width));
            _width = line.Length;
        }
        else
        {
            output.WriteLine(line);
        }
        output.Flush();
    }

    public static string Format(SendProgress p)
    {
        var c = CultureInfo.InvariantCulture;
        // A status (waiting, paused since) replaces the ETA; an ETA beyond a day is noise from a rate near zero.
        var tail = p.Status ?? (p.Paused ? "paused: the SMTP server is not answering"
            : p.Eta is { } e && e < TimeSpan.FromDays(1) ? $"ETA {(int)e.TotalHours}:{e.Minutes:00}:{e.Seconds:00}" : "ETA -");
        return string.Format(c, "{0}: {1:N0} sent, {2:N0} failed, {3:N0} deferred, {4:N0} skipped, {5:N0} remaining, {6:N0}/s, {7}",
            p.Month, p.Sent, p.Failed, p.Deferred, p.Skipped, p.Remaining, p.RatePerSecond, tail);
    }
}
