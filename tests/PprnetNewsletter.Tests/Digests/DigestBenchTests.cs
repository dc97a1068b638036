using PprnetNewsletter.Bench;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Digests;

public class DigestBenchTests
{
    [Fact]
    public async Task The_bench_verb_runs_on_a_sample_edition_and_refuses_nonsense()
    {
        await using var test = await TestApp.CreateAsync();
        Task<int> Bench(params string[] args) => Cli.RunAsync(test.App, args, BenchProgram.Commands(test.App));

        Assert.Equal(ExitCodes.Success, await Bench("digest", "--iterations", "5"));
        Assert.Equal(ExitCodes.BadInput, await Bench("digest", "--iterations", "0"));
        Assert.Equal(ExitCodes.BadInput, await Bench("digest", "--month", "2031-01"));
    }
}
