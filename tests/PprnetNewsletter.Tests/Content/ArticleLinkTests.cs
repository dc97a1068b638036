using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Content.ContentFixtures;

namespace PprnetNewsletter.Tests.Content;

/// <summary>The optional front-matter keys doi: and url: give the cited article's link, checked like links in the text.</summary>
public class ArticleLinkTests
{
    [Theory]
    [InlineData("doi: 10.1037/cou0000561", "https://doi.org/10.1037/cou0000561")]
    [InlineData("doi: https://doi.org/10.1080/10503307.2021.1904164", "https://doi.org/10.1080/10503307.2021.1904164")]
    [InlineData("doi: \"doi:10.1002/(SICI)1097-4679\"", "https://doi.org/10.1002/%28SICI%291097-4679")]
    [InlineData("url: https://psycnet.apa.org/record/2021-71236-001", "https://psycnet.apa.org/record/2021-71236-001")]
    public async Task A_doi_or_url_becomes_the_summarys_link(string field, string expected)
    {
        await using var test = await TestApp.CreateAsync();
        var folder = test.WriteFolder(("study.md", Summary(extra: field)));

        await test.Get<SummaryImporter>().ImportAsync(folder);

        var summary = Assert.Single((await test.Get<IContentStore>().GetEditionAsync("2023-05"))!.Summaries);
        Assert.Equal(expected, summary.Link);
    }

    [Theory]
    [InlineData("doi: cou0000561", "study.md (line 5): doi 'cou0000561' is not a DOI: write it like 'doi: 10.1037/cou0000561'")]
    [InlineData("url: javascript:alert(1)", "study.md (line 5): url 'javascript:alert(1)' is not a full web address")]
    [InlineData("url: psycnet.apa.org/record/1", "study.md (line 5): url 'psycnet.apa.org/record/1' is not a full web address")]
    [InlineData("doi: 10.1037/cou0000561\nurl: https://example.org/a", "study.md (line 6): give the article's doi or its url, not both")]
    public async Task A_bad_doi_or_url_is_refused_with_what_to_write(string fields, string expected)
    {
        await using var test = await TestApp.CreateAsync();
        var folder = test.WriteFolder(("study.md", Summary(extra: fields)));

        var e = await Assert.ThrowsAsync<UsageException>(() => test.Get<SummaryImporter>().ImportAsync(folder));

        Assert.Contains(expected, e.Message);
        Assert.Equal(0, await test.CountAsync("summaries"));
    }

    [Fact]
    public async Task A_changed_link_is_an_update_and_the_archive_shows_the_link()
    {
        await using var test = await TestApp.StartWebAsync();
        var first = test.WriteFolder(("study.md", Summary(extra: "doi: 10.1037/cou0000561")));
        var second = test.WriteFolder(("study.md", Summary(extra: "doi: 10.1037/cou0000562")));
        await test.Get<SummaryImporter>().ImportAsync(first);

        var result = await test.Get<SummaryImporter>().ImportAsync(second);
        await test.Get<EditionSender>().SendAsync("2023-05");
        using var client = test.CreateClient();
        var page = await client.GetStringAsync("archive/2023-05");

        Assert.Equal(1, result.Updated);
        Assert.Contains("The article: <a href=\"https://doi.org/10.1037/cou0000562\">https://doi.org/10.1037/cou0000562</a>", page);
    }
}
