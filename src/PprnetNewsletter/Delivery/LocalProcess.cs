namespace PprnetNewsletter.Delivery;

/// <summary>Whether a process recorded by a lease holder on this host still runs.</summary>
static class LocalProcess
{
    /// <summary>True when no process <paramref name="pid"/> runs on this host (any more).</summary>
    public static bool Gone(long pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById((int)pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true; // no such process
        }
    }
}
