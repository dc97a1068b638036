using PprnetNewsletter.Tests.Support;
using PprnetNewsletter.Web;

namespace PprnetNewsletter.Tests.Web;

/// <summary>What the service warns about at start: an unsigned relay, and email links that would miss the server.</summary>
public class StartupWarningTests
{
    static async Task<IReadOnlyList<string>> WarningsAsync(Dictionary<string, string?> config)
    {
        await using var test = await TestApp.StartWebAsync(config);
        return StartupWarnings.For(test.App.Services, test.App.ListeningAddresses());
    }

    [Fact]
    public async Task A_relay_without_dkim_is_warned_about()
    {
        var warnings = await WarningsAsync(new() { ["Smtp:Host"] = "127.0.0.1", ["Smtp:Port"] = "2525" });
        Assert.Contains(warnings, w => w.Contains("unsigned", StringComparison.Ordinal) && w.Contains("pprnet dkim init", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_base_url_on_another_port_of_this_server_is_warned_about()
    {
        var warnings = await WarningsAsync(new() { ["Newsletter:BaseUrl"] = "http://127.0.0.1:1" });
        Assert.Contains(warnings, w => w.StartsWith("Newsletter:BaseUrl is http://127.0.0.1:1/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_pickup_directory_and_a_public_base_url_behind_a_proxy_give_no_warning()
    {
        Assert.Empty(await WarningsAsync([]));
    }
}
