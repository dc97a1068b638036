namespace PprnetNewsletter.Delivery;

/// <summary>
/// One heartbeat of a process that uses the relay: its id, its own settings (they size the table when nobody else
/// uses it), how many slots it could use now, and its lease.
/// </summary>
public sealed record RelayRequest(long Owner, int Slots, int MessagesPerSecond, int Wanted, DateTimeOffset Now, DateTimeOffset LeaseUntil);

/// <summary>A row of relay_slots as a heartbeat saw it; a free slot has no holder.</summary>
public sealed record RelaySlotRow(int Slot, long? Holder, DateTimeOffset? HeldSince);

/// <summary>A process that wants more slots than it holds, since when, and how many it holds.</summary>
public sealed record RelayWaiter(long Owner, DateTimeOffset Since, int Holds);

/// <summary>
/// The table after a heartbeat: its settings (which every process follows), every slot (live holders only), and the
/// processes waiting for more.
/// </summary>
public sealed record RelayAllotment(int Slots, int MessagesPerSecond, IReadOnlyList<RelaySlotRow> Rows, IReadOnlyList<RelayWaiter> Waiters)
{
    public IReadOnlyList<RelaySlotRow> HeldBy(long owner) => [.. Rows.Where(r => r.Holder == owner)];
}

/// <summary>
/// The relay's connection slots shared by every process on the database (tables relay_slots and relay_waiters): the
/// allotment behind <see cref="RelayGate"/>. Implemented by <see cref="SqliteRelaySlots"/> and <see cref="PgRelaySlots"/>.
/// </summary>
public interface IRelaySlots
{
    /// <summary>
    /// In one transaction, serialised with every other heartbeat: sizes the table if nobody uses it, renews the
    /// caller's slots, claims free ones while it wants more and is first in line (fewest held, then longest waiting),
    /// records it as waiting if it still wants more (or not), and returns the table.
    /// </summary>
    Task<RelayAllotment> HeartbeatAsync(RelayRequest request, CancellationToken ct);

    /// <summary>Gives back <paramref name="slots"/> (those the owner still holds).</summary>
    Task ReleaseAsync(long owner, IReadOnlyCollection<int> slots, CancellationToken ct);

    /// <summary>Gives back every slot of the owner and forgets that it waits: it stops using the relay.</summary>
    Task LeaveAsync(long owner, CancellationToken ct);
}
