using Microsoft.Extensions.Time.Testing;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Delivery.DeliveryTestData;

namespace PprnetNewsletter.Tests.Delivery;

/// <summary>
/// The sending engine of two apps on one database (two instances, or a service and a command line) against a real
/// SMTP server, on both engines: one run per edition between them, and one app finishing what the other left when
/// it died.
/// </summary>
public sealed class SharedDatabaseSendTests
{
    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Two_apps_sending_one_edition_at_the_same_time_reach_each_reader_exactly_once(StorageProvider engine)
    {
        const int readers = 600;
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var first = await Engines.CreateAppAsync(engine, Fast(smtp.ClientConfig(connections: 2)));
        await using var second = await DeliveryStoreContractTests.SameDatabaseAsync(first, Fast(smtp.ClientConfig(connections: 2)));
        await SeedEditionAsync(first);
        var emails = await SeedSubscribersAsync(first, readers);

        var results = await Task.WhenAll(
            Task.Run(() => first.Sender().SendAsync(Month)),
            Task.Run(() => second.Sender().SendAsync(Month)));

        var counts = smtp.CountByRecipient();
        Assert.Equal(emails.Order(), counts.Keys.Order());
        Assert.All(counts, c => Assert.Equal(1, c.Value));
        Assert.Equal(readers, results.Sum(r => r.Sent));
        Assert.Equal(new Dictionary<string, long> { ["sent"] = readers }, await StatesAsync(first));
        Assert.Equal("sent", (await first.Get<IDeliveryStore>().FindEditionAsync(Month))!.Status);
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task An_app_dying_mid_send_is_finished_by_another_app_once_its_lease_lapsed_with_duplicates_bounded_by_messages_in_flight(
        StorageProvider engine)
    {
        const int readers = 300;
        const int connections = 3;
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var dying = await Engines.CreateAppAsync(engine, Fast(smtp.ClientConfig(connections)));
        await using var survivor = await DeliveryStoreContractTests.SameDatabaseAsync(dying, Fast(smtp.ClientConfig(connections)));
        await SeedEditionAsync(dying);
        var emails = await SeedSubscribersAsync(dying, readers);
        var start = DateTimeOffset.UtcNow;
        var diesAt = new CrashAndStopTests.DiesAfter(dying.Get<IMailTransport>(), crashAt: 100);

        // The first app sends until the server has accepted 100 messages, then stops dead: no commit, no release.
        var dead = dying.Sender(new FakeTimeProvider(start), diesAt).SendAsync(Month);   // never completes: abandoned
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
        {
            while (smtp.Received.Count < 100)
            {
                await Task.Delay(10, timeout.Token);
            }
        }
        var held = await StatesAsync(dying);
        // The survivor comes after the dead run's lease (default settings) ran out.
        var later = new FakeTimeProvider(start + dying.Get<Microsoft.Extensions.Options.IOptions<DeliveryOptions>>().Value.LeaseDuration + TimeSpan.FromSeconds(1));
        var finished = await survivor.Sender(later).SendAsync(Month);

        Assert.False(dead.IsCompleted);
        Assert.True(held.GetValueOrDefault("sending") > 0, "the dead run held no row: nothing to take over");
        Assert.True(finished.EditionSent);
        var counts = smtp.CountByRecipient();
        Assert.All(emails, e => Assert.True(counts.GetValueOrDefault(e) >= 1, $"{e} was skipped"));
        Assert.InRange(smtp.Received.Count - readers, 0, SendRun.UnsettledPerConnection * connections);
        Assert.Equal(new Dictionary<string, long> { ["sent"] = readers }, await StatesAsync(survivor));
    }
}
