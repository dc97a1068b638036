using PprnetNewsletter.Delivery;

namespace PprnetNewsletter.Tests.Delivery;

/// <summary>How many slots a holder gives back (<see cref="RelayFairness.Surplus"/>): shares even out, and with more processes than slots everyone gets turns.</summary>
public sealed class RelayFairnessTests
{
    static readonly DateTimeOffset Now = new(2031, 5, 1, 9, 0, 0, TimeSpan.Zero);

    static RelayAllotment Table(IReadOnlyList<(long? Holder, int AgoSeconds)> slots, params (long Owner, int Holds)[] waiters) =>
        new(slots.Count, 200,
            [.. slots.Select((s, i) => new RelaySlotRow(i, s.Holder, s.Holder is null ? null : Now.AddSeconds(-s.AgoSeconds)))],
            [.. waiters.Select(w => new RelayWaiter(w.Owner, Now.AddSeconds(-1), w.Holds))]);

    [Fact]
    public void A_holder_of_every_slot_gives_half_to_a_process_that_waits_with_none()
    {
        var table = Table([(1, 9), (1, 9), (1, 9), (1, 9)], (2, 0));

        Assert.Equal(2, RelayFairness.Surplus(1, wanted: 4, table, Now, RelayGate.Turn));
    }

    [Fact]
    public void Shares_that_differ_by_one_stay_and_nobody_gives_when_nobody_waits()
    {
        var oneApart = Table([(1, 9), (1, 9), (2, 9), (3, 9), (3, 9)], (2, 1));
        var nobodyWaits = Table([(1, 9), (1, 9), (1, 9), (1, 9)]);

        Assert.Equal(0, RelayFairness.Surplus(1, wanted: 4, oneApart, Now, RelayGate.Turn));
        Assert.Equal(0, RelayFairness.Surplus(1, wanted: 0, nobodyWaits, Now, RelayGate.Turn));
    }

    [Fact]
    public void What_a_holder_has_no_use_for_goes_to_a_waiter_even_one_holding_as_many()
    {
        var table = Table([(1, 9), (2, 9), (null, 0), (null, 0)], (2, 1));

        Assert.Equal(1, RelayFairness.Surplus(1, wanted: 0, table, Now, RelayGate.Turn));
    }

    [Fact]
    public void With_more_processes_than_slots_the_slot_held_longest_goes_to_a_waiter_with_none_after_a_turn()
    {
        var early = Table([(1, 2), (2, 1)], (3, 0));
        var due = Table([(1, 6), (2, 1)], (3, 0));

        Assert.Equal(0, RelayFairness.Surplus(1, wanted: 4, early, Now, RelayGate.Turn));
        Assert.Equal(1, RelayFairness.Surplus(1, wanted: 4, due, Now, RelayGate.Turn));
        Assert.Equal(0, RelayFairness.Surplus(2, wanted: 4, due, Now, RelayGate.Turn));
    }
}
