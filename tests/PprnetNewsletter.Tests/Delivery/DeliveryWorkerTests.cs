using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Scheduling;
using PprnetNewsletter.Tests.Support;
using Quartz;
using static PprnetNewsletter.Tests.Delivery.DeliveryTestData;
using static PprnetNewsletter.Tests.Delivery.UnattendedSendTests;

namespace PprnetNewsletter.Tests.Delivery;

/// <summary>
/// The delivery worker in the real service host, against a real SMTP server: every starter in one process goes through
/// it, the host's stop ends its runs cleanly, and single emails never wait for an edition.
/// </summary>
public class DeliveryWorkerTests
{
    const string SampleMonth = "2023-03";

    /// <summary>
    /// Imports a one-summary edition for the month the schedule sends now. The schedule fires every minute, so some
    /// month is due whatever the test's date (but in the first minute of a month, which is waited out).
    /// </summary>
    static async Task<string> ImportDueEditionAsync(TestApp test)
    {
        var cron = EditionSchedule.CronOf(test.Get<IOptions<ScheduleOptions>>().Value);
        string? month;
        while ((month = EditionSchedule.DueMonth(DateTimeOffset.UtcNow, cron)) is null)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        var folder = Path.Combine(test.Folder, "due", month);
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "responsiveness.md"), $"""
            ---
            title: Therapist Responsiveness and Outcome
            month: {month}
            topics: [empathy]
            ---
            Responsive therapists had better outcomes.

            ## Practice Implications
            Notice what the client needs now.
            """);
        await test.Get<SummaryImporter>().ImportAsync(folder);
        return month;
    }

    static Dictionary<string, string?> Relay(SmtpTestServer smtp, int perSecond)
    {
        var config = smtp.ClientConfig(connections: 2);
        // A rate that makes the send last seconds: every starter of the test comes while it runs.
        config["Smtp:MessagesPerSecond"] = perSecond.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return config;
    }

    [Fact]
    public async Task The_schedule_the_admin_api_and_a_command_line_send_of_one_edition_in_one_process_run_as_one_job()
    {
        const int readers = 1_000;
        await using var smtp = await SmtpTestServer.StartAsync();
        var config = Relay(smtp, perSecond: 100);
        config["Schedule:Cron"] = "0 * * * * ?";
        var (test, admin) = await AdminClient.StartAsync(config);
        await using var _ = test;
        using var __ = admin;
        var emails = await SeedAsync(test, readers);
        var month = await ImportDueEditionAsync(test);
        var worker = test.Get<DeliveryWorker>();

        // The schedule fires: Quartz runs the monthly job now.
        await (await test.Get<ISchedulerFactory>().GetScheduler()).TriggerJob(new JobKey("monthly-edition"));
        await WaitUntilAsync(() => smtp.Received.Count >= 20);
        var api = await admin.PostAsync($"admin/api/editions/{month}/send", null);
        // What `digest send` runs: its request joins the job already sending the edition.
        var commandLine = await worker.RunAsync(DeliveryRequest.Send(month, "command line"), null, CancellationToken.None);
        var view = await AdminJobs.WaitAsync(admin, month);

        Assert.Equal(HttpStatusCode.Conflict, api.StatusCode);
        Assert.Matches(@"process \d+ on ", await api.Content.ReadAsStringAsync());
        // The command line's result is the whole run (it joined it), not a second run that found nothing left.
        Assert.Equal(readers, commandLine.Run!.Sent);
        Assert.Equal(("send", "schedule"), (view.LastJob!.Kind, view.LastJob.StartedBy));
        var counts = smtp.CountByRecipient();
        Assert.Equal(emails.Order(), counts.Keys.Order());
        Assert.All(counts, c => Assert.Equal(1, c.Value));
        Assert.Equal(new Dictionary<string, long> { ["sent"] = readers }, await StatesAsync(test, month));
    }

    [Fact]
    public async Task Stopping_the_host_ends_a_send_in_progress_with_no_row_left_sending_and_a_later_send_finishes_it_once_each()
    {
        const int readers = 2_000;
        const int connections = 2;
        await using var smtp = await SmtpTestServer.StartAsync();
        var (test, admin) = await AdminClient.StartAsync(Relay(smtp, perSecond: 100));
        await using var _ = test;
        using var __ = admin;
        var emails = await SeedAsync(test, readers);
        var worker = test.Get<DeliveryWorker>();

        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"admin/api/editions/{SampleMonth}/send", null)).StatusCode);
        await WaitUntilAsync(() => smtp.Received.Count >= 50);
        await test.App.StopAsync();
        var states = await StatesAsync(test, SampleMonth);
        var holder = await test.Get<IEditionRuns>().HolderAsync(SampleMonth, CancellationToken.None);
        var receivedBeforeResume = smtp.Received.Count;

        Assert.True(worker.ExecuteTask!.IsCompleted);
        Assert.Equal(0, states.GetValueOrDefault("sending"));
        Assert.True(holder is null || !holder.IsLive(DateTimeOffset.UtcNow), $"the run record is still live: {holder}");
        Assert.True(states.GetValueOrDefault("pending") > 0, "the send ended before the stop: nothing was tested");
        Assert.Contains("stopped", worker.Last(SampleMonth)!.Outcome);
        Assert.InRange(receivedBeforeResume - states["sent"], 0, SendRun.UnsettledPerConnection * connections);

        // A later run (the service's next start, or `digest send`) finishes the edition at once: nothing waits for a lease.
        var rest = await test.Get<EditionSender>().SendAsync(SampleMonth);
        var counts = smtp.CountByRecipient();
        Assert.True(rest.EditionSent);
        Assert.All(emails, e => Assert.True(counts.GetValueOrDefault(e) >= 1, $"{e} was skipped"));
        Assert.InRange(smtp.Received.Count - readers, 0, SendRun.UnsettledPerConnection * connections);
    }

    [Fact]
    public async Task A_confirmation_asked_for_while_an_edition_of_thousands_is_sending_goes_out_within_seconds()
    {
        const int readers = 3_000;
        const string newcomer = "newcomer@example.org";
        await using var smtp = await SmtpTestServer.StartAsync();
        var (test, admin) = await AdminClient.StartAsync(Relay(smtp, perSecond: 200));
        await using var _ = test;
        using var __ = admin;
        await SeedAsync(test, readers);

        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"admin/api/editions/{SampleMonth}/send", null)).StatusCode);
        await WaitUntilAsync(() => smtp.Received.Count >= 100);
        using (var visitor = new WebSession(test, "Firefox/140.0"))
        {
            await visitor.GetAsync("/");
            var subscribed = await visitor.PostFormAsync("/subscribe", WebSession.Fields(("email", newcomer), ("topics", "empathy")));
            Assert.Equal(HttpStatusCode.OK, subscribed.StatusCode);
        }
        var waited = Stopwatch.StartNew();
        await WaitUntilAsync(() => smtp.Received.Any(m => m.To.Contains(newcomer, StringComparer.OrdinalIgnoreCase)));
        waited.Stop();
        var digestsByThen = smtp.Received.Count(m => !m.To.Contains(newcomer, StringComparer.OrdinalIgnoreCase));

        Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), $"the confirmation took {waited.Elapsed}");
        // It did not wait for the edition: most of the list was still to go when it arrived.
        Assert.InRange(digestsByThen, 100, readers - 500);
        Assert.Contains("/confirm?token=", smtp.Received.Single(m => m.To.Contains(newcomer, StringComparer.OrdinalIgnoreCase)).Message.TextBody);
    }
}
