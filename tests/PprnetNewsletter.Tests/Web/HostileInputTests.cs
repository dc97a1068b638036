using System.Net;
using System.Text;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Support.WebSession;

namespace PprnetNewsletter.Tests.Web;

/// <summary>Every bad input is the sender's 4xx with a message naming the field, and stores nothing.</summary>
public class HostileInputTests
{
    public static TheoryData<string, (string, string)[], string> BadForms => new()
    {
        { "malformed email", [("email", "not-an-address"), ("allTopics", "true")], "Email address:" },
        { "empty email", [("email", ""), ("allTopics", "true")], "Email address: enter your email address" },
        { "display-name trick", [("email", "Eve <eve@example.org>"), ("allTopics", "true")], "Email address:" },
        { "two addresses", [("email", "a@example.org, b@example.org"), ("allTopics", "true")], "Email address:" },
        { "CR/LF in email", [("email", "ana@example.org\r\nBcc: x@example.org"), ("allTopics", "true")], "Email address must be on one line" },
        { "CR/LF in name", [("email", "ana@example.org"), ("name", "Ana\r\nBcc: x@example.org"), ("allTopics", "true")], "Name must be on one line" },
        { "overlong name", [("email", "ana@example.org"), ("name", new string('n', 101)), ("allTopics", "true")], "Name: the name is longer than 100 characters" },
        { "unknown topic", [("email", "ana@example.org"), ("topics", "astrology")], "Topics: &quot;astrology&quot; is not one of our topics" },
        { "CR/LF in topic", [("email", "ana@example.org"), ("topics", "empathy\r\n")], "is not one of our topics" },
        { "no topic", [("email", "ana@example.org")], "Topics: choose at least one topic, or All topics" },
        { "email twice", [("email", "ana@example.org"), ("email", "eve@example.org"), ("allTopics", "true")], "Email address: send one value, not 2" },
    };

    [Theory]
    [MemberData(nameof(BadForms))]
    public async Task A_bad_subscribe_form_is_a_400_page_naming_the_field_and_nothing_is_stored_or_sent(
        string why, (string, string)[] fields, string message)
    {
        await using var test = await TestApp.StartWebAsync();
        using var visitor = new WebSession(test);
        await visitor.GetAsync("/");

        var response = await visitor.PostFormAsync("/subscribe", Fields(fields));

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, why);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains(message, html);
        Assert.Contains("class=\"error-summary\"", html);
        Assert.Equal(0, await test.Get<ISubscriberStore>().CountAsync());
        Assert.Empty(Outbox.Messages(test));
    }

    [Fact]
    public async Task The_form_comes_back_filled_in_after_an_error()
    {
        await using var test = await TestApp.StartWebAsync();
        using var visitor = new WebSession(test);
        await visitor.GetAsync("/");

        var response = await visitor.PostFormAsync("/subscribe", Fields(("email", "ana@example"), ("name", "Ana"), ("topics", "empathy")));

        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("value=\"ana@example\"", html);
        Assert.Contains("value=\"Ana\"", html);
        Assert.Contains("value=\"empathy\" checked=\"checked\"", html);
        Assert.Contains("aria-invalid=\"true\" aria-describedby=\"email-error\"", html);
    }

    [Fact]
    public async Task A_form_without_its_antiforgery_token_is_refused_and_nothing_is_stored()
    {
        await using var test = await TestApp.StartWebAsync();
        using var visitor = new WebSession(test);
        await visitor.GetAsync("/");

        var response = await visitor.PostFormAsync("/subscribe", Fields(("email", "ana@example.org"), ("allTopics", "true")), withAntiforgery: false);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("This form has expired", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await test.Get<ISubscriberStore>().CountAsync());
    }

    [Fact]
    public async Task A_subscribe_post_that_is_not_a_form_is_a_415()
    {
        await using var test = await TestApp.StartWebAsync();
        using var client = test.CreateClient();

        var response = await client.PostAsync("subscribe", new StringContent("{\"email\":\"ana@example.org\"}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task A_request_body_over_the_limit_is_refused_with_413()
    {
        await using var test = await TestApp.StartWebAsync();
        using var client = test.CreateClient();
        var huge = "email=" + new string('a', 300 * 1024);

        var response = await client.PostAsync("subscribe", new StringContent(huge, Encoding.ASCII, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task A_form_with_thousands_of_fields_is_a_400()
    {
        await using var test = await TestApp.StartWebAsync();
        using var client = test.CreateClient();
        var many = string.Join("&", Enumerable.Range(0, 1000).Select(i => $"topics={i}"));

        var response = await client.PostAsync("subscribe", new StringContent(many, Encoding.ASCII, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Subscribing_faster_than_the_limit_is_a_429_with_retry_after()
    {
        await using var test = await TestApp.StartWebAsync(new Dictionary<string, string?> { ["Web:SubscribeLimitPerMinute"] = "2" });
        using var visitor = new WebSession(test);
        await visitor.GetAsync("/");

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 3; i++)
        {
            last = await visitor.PostFormAsync("/subscribe", Fields(("email", $"a{i}@example.org"), ("allTopics", "true")));
            statuses.Add(last.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        Assert.True(last!.Headers.RetryAfter is not null);
        Assert.Equal(2, await test.Get<ISubscriberStore>().CountAsync());
    }
}
