using System.Diagnostics;
using System.Globalization;

namespace PprnetNewsletter.Tests.Support;

/// <summary>A process's memory as Linux accounts it (/proc/PID/status): resident now, and the peak so far.</summary>
public static class ProcessMemory
{
    public static long ResidentBytes(Process process) => Read(process, "VmRSS:") ?? throw NoField(process, "VmRSS");

    public static long PeakBytes(Process process) => Read(process, "VmHWM:") ?? throw NoField(process, "VmHWM");

    static InvalidOperationException NoField(Process process, string field) => new($"/proc/{process.Id}/status has no {field}");

    /// <summary>The field in bytes; null once the process has ended (a zombie's status has no memory fields).</summary>
    static long? Read(Process process, string field)
    {
        foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        return null;
    }

    /// <summary>
    /// Samples the peak resident size of <paramref name="process"/> until it exits; the last sample before the exit.
    /// The peak only grows, so this misses at most the last sampling interval.
    /// </summary>
    public static async Task<long> PeakUntilExitAsync(Process process, CancellationToken ct)
    {
        var peak = 0L;
        while (!process.HasExited)
        {
            try
            {
                peak = Math.Max(peak, Read(process, "VmHWM:") ?? 0);
            }
            catch (IOException)
            {
                // The process ended between the check and the read.
            }
            await Task.Delay(20, ct);
        }
        return peak;
    }
}
