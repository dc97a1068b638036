using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Scheduling;

public static class SchedulingSetup
{
    /// <summary>Quartz: the monthly edition and the periodic retry of deferred deliveries.</summary>
    public static WebApplicationBuilder AddScheduling(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ScheduleOptions>(ScheduleOptions.Section);
        return builder;
    }
}
