using System.CommandLine;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Bench;

/// <summary>
/// <c>pprnet-bench send</c> and <c>pprnet-bench digest</c> (run from the repository: <c>dotnet run -c Release
/// --project bench/PprnetNewsletter.Bench -- send --subscribers 100000</c>); docs/benchmarks.md records the figures.
/// </summary>
public static class BenchProgram
{
    public static async Task<int> Main(string[] args)
    {
        var app = PprnetNewsletter.Program.BuildVerbHost();
        await using (app as IAsyncDisposable)
        {
            return await Cli.RunAsync(app, args, Commands(app));
        }
    }

    public static RootCommand Commands(IHost app) => new("Measure the hot paths of PPRNet Newsletter on this machine.")
    {
        DigestBench.Verb(app),      // digest: selection + render + MIME per digest
        SendBench.Verb(app),        // send: enqueue + send to smtp-sink, beside smtp-source and bare MailKit
    };
}
