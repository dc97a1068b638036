using System.Net;
using System.Text;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Web;

public class HardeningTests
{
    [Theory]
    [InlineData("/")]
    [InlineData("/archive")]
    [InlineData("/no-such-page")]
    public async Task Every_page_carries_the_security_headers(string path)
    {
        await using var test = await TestApp.StartWebAsync();
        using var client = test.CreateClient();

        var response = await client.GetAsync(path);

        var csp = string.Join(" ", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.False(response.Headers.Contains("Server"));
    }

    [Fact]
    public async Task An_unknown_page_is_a_404_page_for_people()
    {
        await using var test = await TestApp.StartWebAsync();
        using var client = test.CreateClient();

        var response = await client.GetAsync("/no-such-page");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("There is no page at this address", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_style_sheet_is_served_as_css()
    {
        await using var test = await TestApp.StartWebAsync();
        using var client = test.CreateClient();

        var response = await client.GetAsync("/site.css");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/css", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(":focus-visible", await response.Content.ReadAsStringAsync());
    }
}
