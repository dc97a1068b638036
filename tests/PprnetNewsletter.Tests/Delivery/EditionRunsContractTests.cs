using PprnetNewsletter.Delivery;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Delivery.DeliveryTestData;

namespace PprnetNewsletter.Tests.Delivery;

/// <summary>
/// The edition run records' contract (<see cref="IEditionRuns"/>) on both engines, with two apps sharing one database
/// as two instances (or machines) do: one run per edition, a heartbeat that keeps it and its rows, a takeover once
/// the lease lapsed.
/// </summary>
public sealed class EditionRunsContractTests
{
    static readonly DateTimeOffset Now = new(2031, 5, 1, 9, 0, 0, TimeSpan.Zero);
    static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    static readonly CancellationToken None = CancellationToken.None;

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task One_app_holds_the_edition_the_other_is_refused_and_sees_who_holds_it_until_the_lease_lapses(StorageProvider engine)
    {
        await using var first = await Engines.CreateAppAsync(engine);
        await using var second = await DeliveryStoreContractTests.SameDatabaseAsync(first);
        var edition = await SeedEditionAsync(first);
        var a = first.Get<IEditionRuns>();
        var b = second.Get<IEditionRuns>();

        Assert.True(await a.TryAcquireAsync(edition, 1, Now, Now + Lease, None));
        Assert.False(await b.TryAcquireAsync(edition, 2, Now.AddSeconds(10), Now.AddSeconds(10) + Lease, None));
        var holder = await b.HolderAsync(Month, None);
        Assert.True(await a.RenewAsync(edition, 1, Now.AddSeconds(20), Now.AddSeconds(20) + Lease, None));
        Assert.False(await b.TryAcquireAsync(edition, 2, Now.AddSeconds(40), Now.AddSeconds(40) + Lease, None));
        // The heartbeat stopped (the first app died): past its last lease the record is taken over.
        Assert.True(await b.TryAcquireAsync(edition, 2, Now.AddSeconds(51), Now.AddSeconds(51) + Lease, None));
        var renewedTooLate = await a.RenewAsync(edition, 1, Now.AddSeconds(52), Now.AddSeconds(52) + Lease, None);
        var taken = await a.HolderAsync(edition, None);
        await b.ReleaseAsync(edition, 2, None);

        Assert.NotNull(holder);
        Assert.Equal((1L, Environment.MachineName, (long)Environment.ProcessId, Now, Now, Now + Lease),
            (holder.Owner, holder.Host, holder.Pid, holder.StartedAt, holder.HeartbeatAt, holder.LeaseUntil));
        Assert.True(holder.IsLive(Now.AddSeconds(10)));
        Assert.Contains($"process {Environment.ProcessId} on {Environment.MachineName}", holder.Describe());
        Assert.False(renewedTooLate);
        Assert.Equal((2L, Now.AddSeconds(51) + Lease), (taken!.Owner, taken.LeaseUntil));
        Assert.Null(await a.HolderAsync(edition, None));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Of_many_runs_starting_at_once_from_two_apps_exactly_one_holds_the_edition(StorageProvider engine)
    {
        await using var first = await Engines.CreateAppAsync(engine);
        await using var second = await DeliveryStoreContractTests.SameDatabaseAsync(first);
        var edition = await SeedEditionAsync(first);

        var tries = Enumerable.Range(1, 12).Select(owner => Task.Run(() =>
            (owner % 2 == 0 ? first : second).Get<IEditionRuns>().TryAcquireAsync(edition, owner, Now, Now + Lease, None)));
        var won = await Task.WhenAll(tries);

        Assert.Single(won, w => w);
        Assert.Equal(Array.IndexOf(won, true) + 1, (await first.Get<IEditionRuns>().HolderAsync(edition, None))!.Owner);
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task The_heartbeat_keeps_the_runs_rows_and_a_takeover_frees_every_dead_runs_rows_at_once(StorageProvider engine)
    {
        await using var first = await Engines.CreateAppAsync(engine);
        await using var second = await DeliveryStoreContractTests.SameDatabaseAsync(first);
        var edition = await SeedEditionAsync(first);
        await SeedSubscribersAsync(first, 7);
        var store = first.Get<IDeliveryStore>();
        await store.StartAsync(edition, Now, skipWithoutMatch: false);
        var runs = first.Get<IEditionRuns>();
        Assert.True(await runs.TryAcquireAsync(edition, 1, Now, Now + Lease, None));
        var held = await store.ClaimAsync(edition, 1, 4, Now.AddSeconds(1), Now.AddSeconds(40));

        Assert.True(await runs.RenewAsync(edition, 1, Now.AddSeconds(20), Now.AddSeconds(20) + Lease, None));
        // A row claimed after the run's last heartbeat carries a lease longer than the run's.
        held = [.. held, .. await store.ClaimAsync(edition, 1, 1, Now.AddSeconds(25), Now.AddSeconds(65))];
        var whileRenewed = await second.Get<IDeliveryStore>().ClaimAsync(edition, 2, 10, Now.AddSeconds(45), Now.AddSeconds(75));
        var heldRows = await runs.HeldRowsAsync(edition, 1, None);
        // The first run dies after that heartbeat; a run of the second app takes the edition over once its lease lapsed.
        Assert.True(await second.Get<IEditionRuns>().TryAcquireAsync(edition, 3, Now.AddSeconds(51), Now.AddSeconds(51) + Lease, None));
        var takenOver = await second.Get<IDeliveryStore>().ClaimAsync(edition, 3, 10, Now.AddSeconds(52), Now.AddSeconds(82));

        Assert.Equal(2, whileRenewed.Count); // only the two rows nobody held
        Assert.Equal(5, heldRows);
        // One run per edition: every row in 'sending' that is not the new run's belongs to a dead run, whatever its lease.
        Assert.Equal(held.Concat(whileRenewed).Select(r => r.DeliveryId).Order(), takenOver.Select(r => r.DeliveryId).Order());
    }
}
