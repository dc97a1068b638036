using System.Data.Common;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Delivery;

/// <summary>The relay slots in SQLite (see <see cref="IRelaySlots"/>): each transaction begins IMMEDIATE, so heartbeats take turns.</summary>
public sealed class SqliteRelaySlots(Db db) : RelaySlotsBase
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);
}
