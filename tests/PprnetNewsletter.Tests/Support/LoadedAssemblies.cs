namespace PprnetNewsletter.Tests.Support;

/// <summary>What a run of the built pprnet binary printed, and the names of the assemblies it had loaded when it exited.</summary>
public sealed record PprnetRunWithAssemblies(PprnetRun Run, IReadOnlySet<string> Assemblies);

/// <summary>
/// Runs the built pprnet binary with this test assembly as a .NET startup hook (<see cref="StartupHook"/>), which lists
/// the assemblies the process loaded: what a process really pulled in, not what the code is believed to do.
/// </summary>
public static class LoadedAssemblies
{
    public const string FileVariable = "PPRNET_TEST_LOADED_ASSEMBLIES";

    public static async Task<PprnetRunWithAssemblies> RunAsync(TestApp test, IReadOnlyDictionary<string, string?> config, params string[] args)
    {
        var list = Path.Combine(test.Folder, $"assemblies-{Guid.NewGuid():N}.txt");
        var environment = new Dictionary<string, string>
        {
            ["DOTNET_STARTUP_HOOKS"] = typeof(StartupHook).Assembly.Location,
            [FileVariable] = list,
        };
        var run = await PprnetProcess.RunAsync(test, config, environment, args);
        Assert.True(File.Exists(list), $"The startup hook wrote no list of assemblies. {run.Error}");
        return new PprnetRunWithAssemblies(run, (await File.ReadAllLinesAsync(list)).ToHashSet(StringComparer.Ordinal));
    }
}
