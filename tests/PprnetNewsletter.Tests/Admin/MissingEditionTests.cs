using System.Net;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Admin;

public class MissingEditionTests
{
    [Fact]
    public async Task A_real_month_without_an_edition_is_not_blamed_on_its_format_and_a_bad_month_is()
    {
        var (test, client) = await AdminClient.StartAsync();
        await using var _ = test;
        using var __ = client;

        var missing = await client.GetAsync("admin/api/editions/2024-05");
        var malformed = await client.GetAsync("admin/api/editions/2024-13");

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var said = await missing.Content.ReadAsStringAsync();
        Assert.Contains("There is no 2024-05 edition; import its summaries first", said);
        Assert.DoesNotContain("YYYY-MM", said);
        Assert.Contains("'2024-13' is not a month: write it as YYYY-MM", await malformed.Content.ReadAsStringAsync());
    }
}
