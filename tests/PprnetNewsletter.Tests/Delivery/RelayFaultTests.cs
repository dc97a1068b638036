using System.Diagnostics;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Delivery.DeliveryTestData;

namespace PprnetNewsletter.Tests.Delivery;

/// <summary>Relay faults read by the whole reply: what stops a run, what pauses it, what only delays one row.</summary>
public class RelayFaultTests
{
    [Fact]
    public async Task A_relay_refusing_STARTTLS_with_454_stops_the_run_within_seconds_with_nothing_deferred_or_failed()
    {
        await using var relay = ScriptedRelay.Start(["STARTTLS", "8BITMIME"], _ => "454 4.7.0 TLS not available due to local problem");
        var config = new Dictionary<string, string?>
        {
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = relay.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Smtp:Security"] = "StartTls",
        };
        await using var test = await TestApp.CreateAsync(config);   // default retries and pauses
        await SeedEditionAsync(test);
        await SeedSubscribersAsync(test, 200);

        var watch = Stopwatch.StartNew();
        var halted = await Assert.ThrowsAsync<DeliveryHaltedException>(() => test.Sender().SendAsync(Month));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"it took {watch.Elapsed} to stop");
        Assert.Contains("454", halted.Message);
        Assert.Contains("Smtp:Security", halted.Message);
        Assert.Equal(new Dictionary<string, long> { ["pending"] = 200 }, await StatesAsync(test));
        Assert.InRange(relay.Connections, 1, 4);
    }
}
