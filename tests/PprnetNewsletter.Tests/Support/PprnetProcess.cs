using System.Diagnostics;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Tests.Support;

/// <summary>What a run of the built pprnet binary printed, and how it ended.</summary>
public sealed record PprnetRun(int ExitCode, string Out, string Error);

/// <summary>
/// Runs the built pprnet binary as an operator would: its own process, in the test's folder, configured through
/// PPRNET_ environment variables pointing at the test's database and outbox (plus any <c>config</c> given).
/// </summary>
public static class PprnetProcess
{
    public static Task<PprnetRun> RunAsync(TestApp test, IReadOnlyDictionary<string, string?> config, params string[] args) =>
        RunAsync(test, config, _ => { }, args);

    /// <summary>As above; <paramref name="started"/> gets the process (to kill it mid-run, say).</summary>
    public static Task<PprnetRun> RunAsync(TestApp test, IReadOnlyDictionary<string, string?> config, Action<Process> started, params string[] args) =>
        RunAsync(test, config, new Dictionary<string, string>(), started, args);

    /// <summary>As above, with raw <paramref name="environment"/> variables for the runtime (e.g. DOTNET_STARTUP_HOOKS).</summary>
    public static Task<PprnetRun> RunAsync(
        TestApp test, IReadOnlyDictionary<string, string?> config, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        RunAsync(test, config, environment, _ => { }, args);

    /// <summary>As above, with <paramref name="input"/> written to the process's standard input (then closed).</summary>
    public static Task<PprnetRun> RunWithInputAsync(TestApp test, string input, params string[] args) =>
        RunAsync(test, new Dictionary<string, string?>(), new Dictionary<string, string>(), _ => { }, args, input);

    /// <summary>
    /// Runs pprnet (the service, say) until a line of its standard output satisfies <paramref name="last"/>, then
    /// ends it; what it printed up to then is returned.
    /// </summary>
    public static async Task<PprnetRun> RunUntilAsync(TestApp test, IReadOnlyDictionary<string, string?> config, Func<string, bool> last, params string[] args)
    {
        using var process = Process.Start(StartInfo(test, config, new Dictionary<string, string>(), args))!;
        var output = new System.Text.StringBuilder();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                output.AppendLine(line);
                if (last(line))
                {
                    break;
                }
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
        return new PprnetRun(process.ExitCode, output.ToString(), await error);
    }

    static async Task<PprnetRun> RunAsync(
        TestApp test, IReadOnlyDictionary<string, string?> config, IReadOnlyDictionary<string, string> environment, Action<Process> started, string[] args,
        string? input = null)
    {
        var start = StartInfo(test, config, environment, args);
        start.RedirectStandardInput = input is not null;
        using var process = Process.Start(start)!;
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }
        started(process);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new PprnetRun(process.ExitCode, await output, await error);
    }

    /// <summary>How the binary is started for <paramref name="test"/>: for a test that drives the process itself (a service, say).</summary>
    public static ProcessStartInfo StartInfo(
        TestApp test, IReadOnlyDictionary<string, string?> config, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = test.Folder,
        };
        start.Environment[ConfigurationSetup.EnvironmentVariable("Storage:Database")] = test.DatabasePath;
        start.Environment[ConfigurationSetup.EnvironmentVariable("Delivery:PickupDirectory")] = test.OutboxPath;
        foreach (var (key, value) in config)
        {
            start.Environment[ConfigurationSetup.EnvironmentVariable(key)] = value;
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pprnet.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return start;
    }
}
