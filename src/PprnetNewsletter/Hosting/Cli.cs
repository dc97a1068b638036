using System.CommandLine;
using Microsoft.Extensions.Options;

namespace PprnetNewsletter.Hosting;

/// <summary>
/// Runs one verb of the command line against a built application. Every verb shares the same exit codes:
/// 0 success, 1 failure, 2 bad usage or bad input (with a message that says what to fix).
/// </summary>
public static class Cli
{
    public static async Task<int> RunAsync(IHost app, string[] args, RootCommand root)
    {
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var line in UsageErrors.Describe(root, args, parsed))
            {
                await Console.Error.WriteLineAsync(line);
            }
            await Console.Error.WriteLineAsync("Run 'pprnet --help' (or 'pprnet VERB --help') for usage.");
            return ExitCodes.BadInput;
        }

        try
        {
            await app.InitializeAsync();
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return ExitCodes.BadInput;
        }
        catch (OptionsValidationException e)
        {
            await Console.Error.WriteLineAsync("The configuration is not valid:");
            foreach (var failure in e.Failures)
            {
                await Console.Error.WriteLineAsync($"  - {failure}");
            }
            await Console.Error.WriteLineAsync("Fix config/appsettings.json or the PPRNET_ environment variables.");
            return ExitCodes.BadInput;
        }
        catch (InvalidOperationException e) when (e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            // The configuration binder's own message names the key and the value it could not read.
            await Console.Error.WriteLineAsync($"The configuration is not valid: {e.Message} {e.InnerException?.Message}");
            return ExitCodes.BadInput;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("Stopped.");
            return ExitCodes.Failure;
        }
    }

    /// <summary>True when <paramref name="args"/> ask for the long-running service rather than a one-off verb.</summary>
    public static bool IsServe(string[] args) => args.Length == 0 || args[0] == "serve";
}
