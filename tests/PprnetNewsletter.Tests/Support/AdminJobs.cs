using System.Net.Http.Json;
using PprnetNewsletter.Admin;

namespace PprnetNewsletter.Tests.Support;

public static class AdminJobs
{
    /// <summary>
    /// Follows the edition's URL until the send started over the API has finished and no row is left to send; its view.
    /// Both, because the service's own retry job may be running the same edition at the same moment: it starts with
    /// the host and takes pending rows too, so the API's job can finish first, with nothing left for it to claim.
    /// </summary>
    public static async Task<EditionView> WaitAsync(HttpClient admin, string month)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var edition = (await admin.GetFromJsonAsync<EditionView>($"admin/api/editions/{month}"))!;
            var counts = edition.Delivery.Counts;
            if (edition.LastJob is { Running: false } && counts.GetValueOrDefault("pending") == 0 && counts.GetValueOrDefault("sending") == 0)
            {
                return edition;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The send of {month} did not finish: {edition.LastJob}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }
    }
}

public static class SampleContent
{
    /// <summary>Imports the repository's content/ folder (three editions: 2022-12, 2023-01, 2023-03).</summary>
    public static Task ImportAsync(TestApp test) =>
        test.Get<PprnetNewsletter.Content.SummaryImporter>().ImportAsync(PprnetNewsletter.Tests.Content.ContentFixtures.SampleFolder);
}
