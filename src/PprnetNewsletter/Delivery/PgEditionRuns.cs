using System.Data.Common;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// The edition run records in PostgreSQL, shared by every instance and command-line run on the database: the
/// record's row is the one place that says which run, on which host, sends an edition.
/// </summary>
public sealed class PgEditionRuns(PgDb db) : EditionRunsBase
{
    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await db.OpenAsync(ct);

    // The heartbeat renews the rows no other transaction holds at that moment: a row locked now is being settled by
    // this run's outcome writer (it leaves 'sending'), and waiting for it could deadlock with that writer's group,
    // which locks rows in another order. A row skipped and still in 'sending' is renewed by the next heartbeat,
    // a third of a lease later.
    protected override string RenewRows => """
        UPDATE deliveries SET lease_until = @leaseUntil
        WHERE id IN (SELECT id FROM deliveries
                     WHERE edition_id = @editionId AND state = 'sending' AND lease_owner = @owner
                     FOR UPDATE SKIP LOCKED)
        """;
}
