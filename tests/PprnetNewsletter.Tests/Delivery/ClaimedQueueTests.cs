using PprnetNewsletter.Delivery;

namespace PprnetNewsletter.Tests.Delivery;

public class ClaimedQueueTests
{
    static List<ClaimedDelivery> Rows(int count) => [.. Enumerable.Range(1, count).Select(id => new ClaimedDelivery(id, 0, null, null, null))];

    [Fact]
    public async Task The_claimer_is_woken_when_the_queue_is_down_to_its_low_water_mark_and_not_before()
    {
        using var queue = new ClaimedQueue(lowWater: 3);
        queue.Add(Rows(10));

        var low = queue.WaitUntilLowAsync(CancellationToken.None);
        for (var taken = 0; taken < 6; taken++)
        {
            Assert.True(queue.TryTake(out _, CancellationToken.None));
        }
        await Task.Delay(100);
        var wokenAtFour = low.IsCompleted;
        Assert.True(queue.TryTake(out _, CancellationToken.None));
        await low.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(wokenAtFour);
        // Already low: the next wait returns at once, and the one after that waits again.
        await queue.WaitUntilLowAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        queue.Add(Rows(5));
        Assert.False(queue.WaitUntilLowAsync(CancellationToken.None).IsCompleted);
    }

    [Fact]
    public void Once_completed_workers_take_what_is_left_and_then_stop_and_a_halt_stops_them_at_once()
    {
        using var queue = new ClaimedQueue(lowWater: 1);
        queue.Add(Rows(2));
        queue.Complete();

        var drained = new List<long>();
        while (queue.TryTake(out var row, CancellationToken.None))
        {
            drained.Add(row.DeliveryId);
        }
        using var halted = new CancellationTokenSource();
        using var empty = new ClaimedQueue(lowWater: 1);
        halted.CancelAfter(TimeSpan.FromMilliseconds(100));

        Assert.Equal([1L, 2L], drained);
        Assert.False(empty.TryTake(out _, halted.Token));
    }

    [Fact]
    public void Rows_nobody_took_are_handed_back()
    {
        using var queue = new ClaimedQueue(lowWater: 1);
        queue.Add(Rows(4));
        Assert.True(queue.TryTake(out _, CancellationToken.None));

        Assert.Equal([2L, 3L, 4L], queue.TakeLeft().ToList());
    }
}
