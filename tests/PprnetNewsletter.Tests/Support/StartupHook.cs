using PprnetNewsletter.Tests.Support;

/// <summary>
/// A .NET startup hook (DOTNET_STARTUP_HOOKS names this assembly; the runtime calls <c>StartupHook.Initialize</c>, a
/// type that must live outside any namespace): when the process exits, it writes the simple name of every assembly it
/// loaded, one a line, to the file named by <see cref="LoadedAssemblies.FileVariable"/>.
/// </summary>
public static class StartupHook
{
    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(LoadedAssemblies.FileVariable) is not { } list)
        {
            return;
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            File.WriteAllLines(list, AppDomain.CurrentDomain.GetAssemblies().Select(assembly => assembly.GetName().Name ?? ""));
    }
}
