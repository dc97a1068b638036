using Microsoft.Extensions.Options;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Hosting;
using Quartz;

namespace PprnetNewsletter.Scheduling;

public static class SchedulingSetup
{
    /// <summary>Quartz: the monthly edition and the periodic retry of deferred deliveries.</summary>
    public static IHostApplicationBuilder AddScheduling(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ScheduleOptions>(ScheduleOptions.Section);
        builder.Services.AddSingleton<ScheduledEditions>();
        builder.Services.AddQuartz(q =>
        {
            var monthly = new JobKey("monthly-edition");
            q.AddJob<MonthlyEditionJob>(j => j.WithIdentity(monthly));
            q.AddTrigger((sp, t) => t.ForJob(monthly).WithIdentity("monthly-edition")
                .WithSchedule(CronScheduleBuilder.Create(EditionSchedule.CronOf(sp.GetRequiredService<IOptions<ScheduleOptions>>().Value))));
            // Quartz keeps no memory across restarts: this one-off run at start-up sends an edition whose trigger
            // time passed while the service was down (the decision makes it once, never twice).
            q.AddTrigger(t => t.ForJob(monthly).WithIdentity(MonthlyEditionJob.CatchUpTrigger).StartNow());

            var retry = new JobKey("delivery-retry");
            q.AddJob<DeliveryRetryJob>(j => j.WithIdentity(retry));
            q.AddTrigger((sp, t) => t.ForJob(retry).WithIdentity("delivery-retry").StartNow()
                .WithSchedule(SimpleScheduleBuilder.Create()
                    .WithInterval(sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.RetryPollInterval)
                    .RepeatForever()));
        });
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        return builder;
    }
}
