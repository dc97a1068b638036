using System.CommandLine;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Digests;

public class DigestBenchTests
{
    [Fact]
    public async Task The_bench_verb_runs_on_a_sample_edition_and_refuses_nonsense()
    {
        await using var test = await TestApp.CreateAsync();

        Assert.Equal(ExitCodes.Success, await test.RunCliAsync("bench", "digest", "--iterations", "5"));
        Assert.Equal(ExitCodes.BadInput, await test.RunCliAsync("bench", "digest", "--iterations", "0"));
        Assert.Equal(ExitCodes.BadInput, await test.RunCliAsync("bench", "digest", "--month", "2031-01"));
    }
}
