using PprnetNewsletter.Content;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Content.ContentFixtures;

namespace PprnetNewsletter.Tests.Content;

public class FirstStartImportTests
{
    [Fact]
    public async Task The_service_imports_the_sample_summaries_when_it_starts_with_none()
    {
        await using var test = await TestApp.StartWebAsync(new Dictionary<string, string?> { ["Content:FirstStartFolder"] = SampleFolder });

        Assert.Equal(6, await test.CountAsync("summaries"));
        Assert.Equal(3, (await test.Get<IContentStore>().ListEditionsAsync()).Count);
    }

    [Fact]
    public async Task The_service_leaves_existing_summaries_alone()
    {
        await using var test = await TestApp.CreateAsync(new Dictionary<string, string?> { ["Content:FirstStartFolder"] = SampleFolder }, serve: true);
        await test.Get<SummaryImporter>().ImportAsync(test.WriteFolder(("mine.md", Summary())));

        await test.App.StartAsync();

        Assert.Equal(1, await test.CountAsync("summaries"));
    }

    [Fact]
    public async Task A_missing_sample_folder_is_no_reason_not_to_start()
    {
        await using var test = await TestApp.StartWebAsync(new Dictionary<string, string?> { ["Content:FirstStartFolder"] = "no-such-folder" });

        Assert.Equal(0, await test.CountAsync("summaries"));
        using var health = await test.CreateClient().GetAsync(new Uri("health", UriKind.Relative));
        Assert.True(health.IsSuccessStatusCode);
    }
}
