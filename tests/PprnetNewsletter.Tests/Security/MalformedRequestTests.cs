using System.Net;
using System.Text;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Security;

/// <summary>
/// A body in an unsupported character set, or cut short, is the sender's 4xx on every form, never a 500, and
/// nothing is logged at error level (no stack trace for the sender's mistake).
/// </summary>
public class MalformedRequestTests
{
    static async Task<(TestApp Test, string Token)> StartWithSubscriberAsync()
    {
        var test = await TestApp.StartWebAsync();
        var ann = await test.Get<ISubscriberStore>().AddAsync(new NewSubscriber("ann@example.org", "Ann", TopicSelection.All), ConsentContext.Admin);
        return (test, test.Get<LinkTokens>().Create(ann.Id, LinkPurpose.Preferences));
    }

    static IEnumerable<string> FormPaths(TestApp test, string preferences)
    {
        var id = test.Get<LinkTokens>().TryVerify(preferences, LinkPurpose.Preferences, out var subscriberId) ? subscriberId : 0;
        var unsubscribe = test.Get<LinkTokens>().Create(id, LinkPurpose.Unsubscribe);
        return ["subscribe", "confirm", $"u/{unsubscribe}", $"preferences/{preferences}", $"preferences/{preferences}/pause",
            $"preferences/{preferences}/resume", $"preferences/{preferences}/unsubscribe", $"preferences/{preferences}/erase"];
    }

    /// <summary>Posts the same body to every form and expects the same refusal from each, with nothing stored.</summary>
    static async Task RefusedEverywhereAsync(string contentType, string body, HttpStatusCode expected)
    {
        var (test, token) = await StartWithSubscriberAsync();
        await using var _ = test;
        using var client = test.CreateClient();
        var before = StoredState.Read(test);
        var errors = ErrorLog.AttachTo(test);

        foreach (var path in FormPaths(test, token))
        {
            var content = new ByteArrayContent(Encoding.ASCII.GetBytes(body));
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);

            var response = await client.PostAsync(path, content);

            Assert.True(response.StatusCode == expected, $"{path}: {response.StatusCode}");
        }
        Assert.Equal(before, StoredState.Read(test));
        Assert.Empty(errors.Entries);
    }

    [Fact]
    public Task A_form_in_utf7_is_a_415_everywhere_and_changes_nothing() => RefusedEverywhereAsync(
        "application/x-www-form-urlencoded; charset=utf-7", "List-Unsubscribe=One-Click&email=a%40example.org&allTopics=true",
        HttpStatusCode.UnsupportedMediaType);

    [Fact]
    public Task A_truncated_multipart_form_is_a_400_everywhere_and_changes_nothing() => RefusedEverywhereAsync(
        "multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Cl",
        HttpStatusCode.BadRequest);
}
