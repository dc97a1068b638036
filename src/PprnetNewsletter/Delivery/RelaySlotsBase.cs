using System.Data.Common;
using Dapper;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// The relay slots' statements and the heartbeat's rules, which read the same in SQLite and PostgreSQL: shared by
/// <see cref="SqliteRelaySlots"/> and <see cref="PgRelaySlots"/>, which open the connection and serialise heartbeats.
/// </summary>
public abstract class RelaySlotsBase : IRelaySlots
{
    /// <summary>A connection of the store's engine, open.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>
    /// Run first in every transaction here so that heartbeats happen one at a time (null where the engine's transaction
    /// does that already: SQLite's BEGIN IMMEDIATE takes the database's write lock).
    /// </summary>
    protected virtual string? SerialiseHeartbeats => null;

    // A slot whose lease lapsed belongs to a process that died or lost touch: it is free.
    const string FreeLapsed = """
        UPDATE relay_slots SET holder = NULL, host = NULL, pid = NULL, held_since = NULL, lease_until = NULL
        WHERE holder IS NOT NULL AND lease_until < @now
        """;

    const string ForgetDeadWaiters = "DELETE FROM relay_waiters WHERE lease_until < @now";

    const string Slots = """
        SELECT slot AS Slot, messages_per_second AS MessagesPerSecond, holder AS Holder, host AS Host, pid AS Pid, held_since AS HeldSince
        FROM relay_slots ORDER BY slot
        """;

    const string Waiters = "SELECT owner AS Owner, host AS Host, pid AS Pid, since AS Since FROM relay_waiters ORDER BY since, owner";

    const string Clear = "DELETE FROM relay_slots";

    const string AddSlot = "INSERT INTO relay_slots (slot, messages_per_second) VALUES (@slot, @messagesPerSecond)";

    const string Renew = "UPDATE relay_slots SET lease_until = @leaseUntil WHERE holder = @owner";

    const string Claim = """
        UPDATE relay_slots SET holder = @owner, host = @host, pid = @pid, held_since = @now, lease_until = @leaseUntil
        WHERE slot = @slot AND holder IS NULL
        """;

    // A waiter keeps its place in line (since) for as long as it keeps waiting.
    const string Wait = """
        INSERT INTO relay_waiters (owner, host, pid, since, lease_until) VALUES (@owner, @host, @pid, @now, @leaseUntil)
        ON CONFLICT (owner) DO UPDATE SET lease_until = excluded.lease_until
        """;

    const string StopWaiting = "DELETE FROM relay_waiters WHERE owner = @owner";

    const string Release = """
        UPDATE relay_slots SET holder = NULL, host = NULL, pid = NULL, held_since = NULL, lease_until = NULL
        WHERE holder = @owner AND slot = @slot
        """;

    const string ReleaseAll = """
        UPDATE relay_slots SET holder = NULL, host = NULL, pid = NULL, held_since = NULL, lease_until = NULL
        WHERE holder = @owner
        """;

    sealed class SlotRecord
    {
        public long Slot { get; set; }

        public long MessagesPerSecond { get; set; }

        public long? Holder { get; set; }

        public string? Host { get; set; }

        public long? Pid { get; set; }

        public DateTimeOffset? HeldSince { get; set; }
    }

    sealed class WaiterRecord
    {
        public long Owner { get; set; }

        public string? Host { get; set; }

        public long? Pid { get; set; }

        public DateTimeOffset Since { get; set; }
    }

    public async Task<RelayAllotment> HeartbeatAsync(RelayRequest request, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var args = new
        {
            owner = request.Owner, host = Environment.MachineName, pid = Environment.ProcessId, now = request.Now, leaseUntil = request.LeaseUntil,
            messagesPerSecond = request.MessagesPerSecond,
        };
        Task<int> Execute(string sql, object parameters) => connection.ExecuteAsync(new CommandDefinition(sql, parameters, tx, cancellationToken: ct));

        if (SerialiseHeartbeats is { } serialise)
        {
            await Execute(serialise, args);
        }
        await Execute(FreeLapsed, args);
        await Execute(ForgetDeadWaiters, args);
        var slots = (await connection.QueryAsync<SlotRecord>(new CommandDefinition(Slots, transaction: tx, cancellationToken: ct))).ToList();
        var waiters = (await connection.QueryAsync<WaiterRecord>(new CommandDefinition(Waiters, transaction: tx, cancellationToken: ct))).ToList();
        // A holder on this host whose process is gone (kill -9) frees its slots at once, not after its lease.
        foreach (var dead in slots.Where(s => s.Holder is not null && s.Host == Environment.MachineName && s.Pid is { } pid && LocalProcess.Gone(pid)))
        {
            await Execute(Release, new { owner = dead.Holder, slot = dead.Slot });
            dead.Holder = null;
        }
        foreach (var dead in waiters.Where(w => w.Host == Environment.MachineName && w.Pid is { } pid && LocalProcess.Gone(pid)).ToList())
        {
            await Execute(StopWaiting, new { owner = dead.Owner });
            waiters.Remove(dead);
        }

        // Nobody else holds or waits for a slot and the table is not this process's own settings: it is resized. So a
        // change of Smtp:MaxConnections or Smtp:MessagesPerSecond takes effect once every process using the old
        // ones has finished; until then a process follows the table.
        var othersActive = slots.Any(s => s.Holder is { } h && h != request.Owner) || waiters.Any(w => w.Owner != request.Owner);
        var mineHeld = slots.Any(s => s.Holder == request.Owner);
        if (slots.Count == 0 || (!othersActive && !mineHeld && (slots.Count != request.Slots || slots[0].MessagesPerSecond != request.MessagesPerSecond)))
        {
            await Execute(Clear, args);
            slots = [.. Enumerable.Range(0, request.Slots).Select(i => new SlotRecord { Slot = i, MessagesPerSecond = request.MessagesPerSecond })];
            foreach (var slot in slots)
            {
                await Execute(AddSlot, new { slot = slot.Slot, messagesPerSecond = slot.MessagesPerSecond });
            }
        }

        await Execute(Renew, args);
        int Holds(long owner) => slots.Count(s => s.Holder == owner);
        var held = Holds(request.Owner);
        var since = waiters.FirstOrDefault(w => w.Owner == request.Owner)?.Since ?? request.Now;
        // Free slots go to the first in line: the waiter holding fewest, then the one waiting longest.
        while (held < request.Wanted && slots.FirstOrDefault(s => s.Holder is null) is { } free
               && !waiters.Any(w => w.Owner != request.Owner && (Holds(w.Owner) < held || (Holds(w.Owner) == held && w.Since < since))))
        {
            await Execute(Claim, new { args.owner, args.host, args.pid, args.now, args.leaseUntil, slot = free.Slot });
            free.Holder = request.Owner;
            free.HeldSince = request.Now;
            held++;
        }
        waiters.RemoveAll(w => w.Owner == request.Owner);
        if (held < request.Wanted)
        {
            await Execute(Wait, args);
            waiters.Add(new WaiterRecord { Owner = request.Owner, Since = since });
        }
        else
        {
            await Execute(StopWaiting, args);
        }
        await tx.CommitAsync(ct);

        return new RelayAllotment(slots.Count, (int)slots[0].MessagesPerSecond,
            [.. slots.Select(s => new RelaySlotRow((int)s.Slot, s.Holder, s.HeldSince))],
            [.. waiters.Select(w => new RelayWaiter(w.Owner, w.Since, Holds(w.Owner)))]);
    }

    public async Task ReleaseAsync(long owner, IReadOnlyCollection<int> slots, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (SerialiseHeartbeats is { } serialise)
        {
            await connection.ExecuteAsync(new CommandDefinition(serialise, transaction: tx, cancellationToken: ct));
        }
        await connection.ExecuteAsync(new CommandDefinition(Release, slots.Select(slot => new { owner, slot }), tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    public async Task LeaveAsync(long owner, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (SerialiseHeartbeats is { } serialise)
        {
            await connection.ExecuteAsync(new CommandDefinition(serialise, transaction: tx, cancellationToken: ct));
        }
        await connection.ExecuteAsync(new CommandDefinition(ReleaseAll, new { owner }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(StopWaiting, new { owner }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }
}
