using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Admin;

public class AdminAuthTests
{
    /// <summary>Every admin endpoint the app maps (read from its routing table, so a new one cannot be missed).</summary>
    static IReadOnlyList<(string Method, string Path)> AdminEndpoints(TestApp test) =>
        test.Get<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/admin/api", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(method => (method,
                e.RoutePattern.RawText!.Replace("{id:long}", "1").Replace("{month}", "2023-03").TrimEnd('/'))))
            .ToList();

    [Fact]
    public async Task Every_admin_endpoint_answers_401_without_the_key_and_with_a_wrong_one_and_changes_nothing()
    {
        var key = AdminClient.NewKey();
        // Many wrong keys from one address: raise the brute-force brake, which has a test of its own.
        await using var test = await TestApp.StartWebAsync(new Dictionary<string, string?> { ["Admin:ApiKey"] = key, ["Admin:FailedAttemptsPerMinute"] = "10000" });
        using var client = test.CreateClient();
        var endpoints = AdminEndpoints(test);
        Assert.True(endpoints.Count >= 14, $"only {endpoints.Count} admin endpoints found");

        foreach (var (method, path) in endpoints)
        {
            foreach (var authorization in new[] { null, "Bearer wrong", "Bearer " + key + "x", "Basic " + key, key, "Bearer " })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path.TrimStart('/'))
                {
                    Content = method is "POST" or "PUT" ? JsonContent.Create(new { email = "x@example.org", kind = "failed", to = "x@example.org" }) : null,
                };
                if (authorization is not null)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", authorization);
                }

                var response = await client.SendAsync(request);

                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with '{authorization}': {response.StatusCode}");
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            }
        }
        Assert.Equal(0, await test.Get<PprnetNewsletter.Subscribers.ISubscriberStore>().CountAsync());
    }

    [Fact]
    public async Task With_no_key_configured_every_admin_call_is_refused_with_a_problem_naming_the_setting()
    {
        await using var test = await TestApp.StartWebAsync();
        using var client = test.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "anything");

        foreach (var (method, path) in AdminEndpoints(test))
        {
            var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path.TrimStart('/')));
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
            Assert.Contains("Admin:ApiKey", problem!.Detail);
        }
    }

    [Fact]
    public async Task The_openapi_document_is_behind_the_key_describes_the_admin_api_and_does_not_echo_the_host()
    {
        var (test, client) = await AdminClient.StartAsync();
        await using var _ = test;
        using var __ = client;
        using var anonymous = test.CreateClient();

        var refused = await anonymous.GetAsync("openapi/v1.json");
        using var request = new HttpRequestMessage(HttpMethod.Get, "openapi/v1.json");
        request.Headers.Host = "attacker.example";
        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"/admin/api/subscribers\"", json);
        Assert.Contains("\"/admin/api/editions/{month}/resend\"", json);
        Assert.Contains("\"bearer\"", json);
        Assert.DoesNotContain("\"/subscribe\"", json);
        Assert.DoesNotContain("attacker.example", json);
    }

    [Fact]
    public async Task Wrong_keys_past_the_limit_get_429_with_retry_after_even_the_right_key_then()
    {
        var key = AdminClient.NewKey();
        await using var test = await TestApp.StartWebAsync(new Dictionary<string, string?> { ["Admin:ApiKey"] = key, ["Admin:FailedAttemptsPerMinute"] = "5" });
        using var client = test.CreateClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            using var wrong = new HttpRequestMessage(HttpMethod.Get, "admin/api/subscribers");
            wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", $"guess{i}");
            statuses.Add((await client.SendAsync(wrong)).StatusCode);
        }
        using var right = new HttpRequestMessage(HttpMethod.Get, "admin/api/subscribers");
        right.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var afterwards = await client.SendAsync(right);

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 5).Concat(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)), statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, afterwards.StatusCode);
        Assert.True(afterwards.Headers.RetryAfter?.Delta > TimeSpan.Zero);
    }
}
