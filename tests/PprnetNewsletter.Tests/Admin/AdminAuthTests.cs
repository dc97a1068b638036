using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Admin;

public class AdminAuthTests
{
    const string Key = "test-admin-key-0123456789abcdef";

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-key")]
    [InlineData("Bearer " + Key + "x")]
    [InlineData("Basic " + Key)]
    [InlineData(Key)]
    public async Task Without_the_right_key_the_admin_api_answers_401_with_problem_details(string? authorization)
    {
        await using var test = await TestApp.StartWebAsync(new Dictionary<string, string?> { ["Admin:ApiKey"] = Key });
        using var client = test.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "admin/api/editions");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Contains("Authorization: Bearer", problem!.Detail);
    }

    [Fact]
    public async Task With_no_key_configured_every_admin_call_is_refused_with_a_problem_naming_the_setting()
    {
        await using var test = await TestApp.StartWebAsync();
        using var client = test.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "");

        var response = await client.GetAsync("admin/api/editions");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Contains("Admin:ApiKey", problem!.Detail);
    }

    [Fact]
    public async Task The_openapi_document_is_served()
    {
        await using var test = await TestApp.StartWebAsync();
        using var client = test.CreateClient();

        var response = await client.GetAsync("openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"openapi\"", await response.Content.ReadAsStringAsync());
    }
}
