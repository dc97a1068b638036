using System.Net;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Web;

public class ArchiveTests
{
    [Fact]
    public async Task Sent_editions_are_readable_with_an_anchor_per_summary_drafts_are_not_and_no_personal_data_shows()
    {
        await using var test = await TestApp.StartWebAsync();
        await SampleContent.ImportAsync(test);
        await test.Get<ISubscriberStore>().AddAsync(new NewSubscriber("ana@example.org", "Ana Reader", TopicSelection.All), ConsentContext.Admin);
        await test.Get<EditionSender>().SendAsync("2023-03");
        using var client = test.CreateClient();

        var index = await client.GetStringAsync("archive");
        Assert.Contains("href=\"/archive/2023-03\"", index);
        Assert.Contains("March 2023", index);
        Assert.DoesNotContain("/archive/2023-01", index);

        var month = await client.GetAsync("archive/2023-03");
        Assert.Equal(HttpStatusCode.OK, month.StatusCode);
        var html = await month.Content.ReadAsStringAsync();
        Assert.Contains("id=\"negative-effects-of-psychotherapy\"", html);
        Assert.Contains("id=\"capacity-to-mentalize\"", html);
        Assert.Contains("Practice Implications", html);
        Assert.DoesNotContain("ana@example.org", html);
        Assert.DoesNotContain("Ana Reader", html);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("archive/2023-01")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("archive/2023-13")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("archive/..%2f..%2fetc")).StatusCode);
    }
}
