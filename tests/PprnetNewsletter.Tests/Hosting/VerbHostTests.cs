using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PprnetNewsletter.Scheduling;
using PprnetNewsletter.Tests.Support;
using Quartz;

namespace PprnetNewsletter.Tests.Hosting;

/// <summary>What a one-off verb's host holds, beside the service's.</summary>
public class VerbHostTests
{
    [Fact]
    public async Task A_one_off_verb_has_no_scheduler_and_the_service_has_every_job()
    {
        // A verb never starts the schedule (that is the service's): its host leaves Quartz out altogether.
        using (var verbs = Program.BuildVerbHost())
        {
            Assert.Null(verbs.Services.GetService<ISchedulerFactory>());
        }

        await using var test = await TestApp.StartWebAsync();
        var scheduler = await test.Get<ISchedulerFactory>().GetScheduler();
        foreach (var job in new[] { MonthlyEditionJob.Name, DeliveryRetryJob.Name, BounceMailboxJob.Name })
        {
            Assert.NotNull(await scheduler.GetJobDetail(new JobKey(job)));
        }
    }
}
