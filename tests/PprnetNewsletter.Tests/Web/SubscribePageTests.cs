using System.Net;
using System.Text.RegularExpressions;
using PprnetNewsletter.Content;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Web;

public partial class SubscribePageTests
{
    [Fact]
    public async Task The_form_lists_every_topic_alphabetically_each_with_its_label_and_the_consent_wording()
    {
        await using var test = await TestApp.StartWebAsync();
        using var client = test.CreateClient();
        var topics = await test.Get<TopicCatalog>().AllAsync();

        var response = await client.GetAsync("/");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("<html lang=\"en\">", html);
        var checkboxes = TopicCheckbox().Matches(html).Select(m => m.Groups["slug"].Value).ToList();
        Assert.Equal(36, checkboxes.Count);
        Assert.Equal(topics.OrderBy(t => t.Name, StringComparer.OrdinalIgnoreCase).Select(t => t.Slug), checkboxes);
        foreach (var slug in checkboxes)
        {
            Assert.Contains($"<label for=\"topic-{slug}\">", html);
        }
        Assert.Contains("<legend>Topics</legend>", html);
        Assert.Contains("id=\"all-topics\" name=\"allTopics\"", html);
        Assert.Contains("<label for=\"email\">", html);
        Assert.Contains("<label for=\"name\">", html);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(PprnetNewsletter.Web.ConsentText.Wording), html);
        Assert.Contains("name=\"__antiforgery\"", html);
        Assert.DoesNotContain("<script", html);
    }

    [GeneratedRegex("<input id=\"topic-(?<slug>[a-z0-9-]+)\" name=\"topics\" type=\"checkbox\"")]
    private static partial Regex TopicCheckbox();
}
