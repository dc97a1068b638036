using PprnetNewsletter.Delivery;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Delivery;

/// <summary>
/// The relay slots' contract (<see cref="IRelaySlots"/>) on both engines, with two apps sharing one database as two
/// processes (or machines) do: the table sized once, slots held by one process at a time, free slots to the first in
/// line, lapsed or dead holders' slots free again.
/// </summary>
public sealed class RelaySlotsContractTests
{
    static readonly DateTimeOffset Now = new(2031, 5, 1, 9, 0, 0, TimeSpan.Zero);
    static readonly CancellationToken None = CancellationToken.None;

    static RelayRequest Ask(long owner, int wanted, DateTimeOffset at, int slots = 4, int perSecond = 200) =>
        new(owner, slots, perSecond, wanted, at, at + RelayGate.Lease);

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task The_first_sizes_the_table_a_second_waits_and_a_slot_given_back_goes_to_the_one_holding_fewer(StorageProvider engine)
    {
        await using var first = await Engines.CreateAppAsync(engine);
        await using var second = await DeliveryStoreContractTests.SameDatabaseAsync(first);
        var a = first.Get<IRelaySlots>();
        var b = second.Get<IRelaySlots>();

        var alone = await a.HeartbeatAsync(Ask(1, 4, Now), None);
        // Other settings: the table's stand while the first process uses it.
        var waiting = await b.HeartbeatAsync(Ask(2, 4, Now.AddSeconds(1), slots: 8, perSecond: 400), None);
        var surplus = RelayFairness.Surplus(1, 4, waiting, Now.AddSeconds(1), RelayGate.Turn);
        await a.ReleaseAsync(1, [0, 1], None);
        // The first wants all four again, but the second holds fewer and waits: the free slots are not its.
        var notAgain = await a.HeartbeatAsync(Ask(1, 4, Now.AddSeconds(2)), None);
        var shared = await b.HeartbeatAsync(Ask(2, 4, Now.AddSeconds(2), slots: 8, perSecond: 400), None);

        Assert.Equal((4, 200, 4), (alone.Slots, alone.MessagesPerSecond, alone.HeldBy(1).Count));
        Assert.Empty(alone.Waiters);
        Assert.Equal((4, 200, 0), (waiting.Slots, waiting.MessagesPerSecond, waiting.HeldBy(2).Count));
        Assert.Equal([new RelayWaiter(2, Now.AddSeconds(1), 0)], waiting.Waiters);
        Assert.Equal(2, surplus);
        Assert.Equal(2, notAgain.HeldBy(1).Count);
        Assert.Equal([0, 1], shared.HeldBy(2).Select(r => r.Slot));
        Assert.Equal([2, 3], shared.HeldBy(1).Select(r => r.Slot));
        // Both still want more: in line by slots held, then since when (the second keeps its place from its first wait).
        Assert.Equal([(1L, 2), (2L, 2)], shared.Waiters.OrderBy(w => w.Owner).Select(w => (w.Owner, w.Holds)));
        Assert.Equal(Now.AddSeconds(1), shared.Waiters.Single(w => w.Owner == 2).Since);
        Assert.Equal(0, RelayFairness.Surplus(1, 4, shared, Now.AddSeconds(2), RelayGate.Turn));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Slots_whose_lease_lapsed_are_free_and_a_table_nobody_uses_takes_the_next_process_settings(StorageProvider engine)
    {
        await using var first = await Engines.CreateAppAsync(engine);
        await using var second = await DeliveryStoreContractTests.SameDatabaseAsync(first);
        var a = first.Get<IRelaySlots>();
        var b = second.Get<IRelaySlots>();
        await a.HeartbeatAsync(Ask(1, 4, Now), None);

        var beforeLapse = await b.HeartbeatAsync(Ask(2, 4, Now.AddSeconds(14)), None);
        // The first process stopped renewing: past its lease, nobody holds or waits but the second, which resizes.
        await b.LeaveAsync(2, None);
        var afterLapse = await b.HeartbeatAsync(Ask(2, 3, Now + RelayGate.Lease + TimeSpan.FromSeconds(1), slots: 6, perSecond: 300), None);
        var renewedTooLate = await a.HeartbeatAsync(Ask(1, 4, Now + RelayGate.Lease + TimeSpan.FromSeconds(2)), None);

        Assert.Empty(beforeLapse.HeldBy(2));
        Assert.Equal((6, 300), (afterLapse.Slots, afterLapse.MessagesPerSecond));
        Assert.Equal([0, 1, 2], afterLapse.HeldBy(2).Select(r => r.Slot));
        // The first is back and gets what is free (it holds nothing it held before) and waits for the rest.
        Assert.Equal([3, 4, 5], renewedTooLate.HeldBy(1).Select(r => r.Slot));
        Assert.Equal([(1L, 3)], renewedTooLate.Waiters.Select(w => (w.Owner, w.Holds)));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task A_holder_whose_process_is_gone_frees_its_slots_at_once(StorageProvider engine)
    {
        await using var first = await Engines.CreateAppAsync(engine);
        var slots = first.Get<IRelaySlots>();
        await slots.HeartbeatAsync(Ask(1, 4, Now), None);
        using var gone = System.Diagnostics.Process.Start("true")!;
        await gone.WaitForExitAsync();
        // As if a process on this host had held the slots and been killed (kill -9) within its lease.
        await EngineStores.ExecuteAsync(first, "UPDATE relay_slots SET pid = @pid", new { pid = gone.Id });

        var taken = await slots.HeartbeatAsync(Ask(2, 4, Now.AddSeconds(1)), None);

        Assert.Equal(4, taken.HeldBy(2).Count);
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Of_many_processes_heartbeating_at_once_from_two_apps_no_slot_is_held_twice(StorageProvider engine)
    {
        await using var first = await Engines.CreateAppAsync(engine);
        await using var second = await DeliveryStoreContractTests.SameDatabaseAsync(first);

        var beats = Enumerable.Range(1, 12).Select(owner => Task.Run(() =>
            (owner % 2 == 0 ? first : second).Get<IRelaySlots>().HeartbeatAsync(Ask(owner, 3, Now), None)));
        var results = await Task.WhenAll(beats);

        var held = results.Select((r, i) => r.HeldBy(i + 1).Select(s => s.Slot)).SelectMany(s => s).ToList();
        Assert.Equal([0, 1, 2, 3], held.Order());
        var table = await EngineStores.ScalarAsync<long>(first, "SELECT count(DISTINCT holder) FROM relay_slots");
        Assert.InRange(table, 1, 2);
    }
}
