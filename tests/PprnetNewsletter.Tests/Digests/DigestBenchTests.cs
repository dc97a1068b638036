using System.CommandLine;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Digests;

public class DigestBenchTests
{
    static Task<int> RunAsync(TestApp test, params string[] args) =>
        Cli.RunAsync(test.App, args, new RootCommand { new Command("bench") { test.App.DigestBenchVerb() } });

    [Fact]
    public async Task The_bench_verb_runs_on_a_sample_edition_and_refuses_nonsense()
    {
        await using var test = await TestApp.CreateAsync();

        Assert.Equal(ExitCodes.Success, await RunAsync(test, "bench", "digest", "--iterations", "5"));
        Assert.Equal(ExitCodes.BadInput, await RunAsync(test, "bench", "digest", "--iterations", "0"));
        Assert.Equal(ExitCodes.BadInput, await RunAsync(test, "bench", "digest", "--month", "2031-01"));
    }
}
