using System.Net.Http.Json;
using PprnetNewsletter.Admin;

namespace PprnetNewsletter.Tests.Support;

public static class AdminJobs
{
    /// <summary>Follows the edition's URL until the send started over the API has finished; its view.</summary>
    public static async Task<EditionView> WaitAsync(HttpClient admin, string month)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var edition = (await admin.GetFromJsonAsync<EditionView>($"admin/api/editions/{month}"))!;
            if (edition.LastJob is { Running: false })
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
