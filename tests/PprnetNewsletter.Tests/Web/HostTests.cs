using System.Net;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Web;

public class HostTests
{
    [Fact]
    public async Task The_host_starts_on_a_free_port_and_health_answers_over_http()
    {
        await using var test = await TestApp.StartWebAsync();
        using var client = test.CreateClient();

        var response = await client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_bad_option_stops_start_up_with_a_message_naming_the_key()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TestApp.CreateAsync(new Dictionary<string, string?> { ["Smtp:Port"] = "0" }));

        Assert.Contains("Smtp:Port", error.Message);
    }
}
