using System.Data.Common;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// The relay slots in PostgreSQL (see <see cref="IRelaySlots"/>), shared by every instance and command-line run on the
/// database, on any host.
/// </summary>
public sealed class PgRelaySlots(PgDb db) : RelaySlotsBase
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);

    // Read committed would let two heartbeats read the same free slot or the same waiters and both act on them: a
    // lock that conflicts with itself makes them take turns (a few rows, once a second per process).
    protected override string SerialiseHeartbeats => "LOCK TABLE relay_slots IN SHARE ROW EXCLUSIVE MODE";
}
