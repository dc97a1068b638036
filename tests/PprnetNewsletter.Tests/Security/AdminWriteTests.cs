using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http;
using PprnetNewsletter.Admin;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Security;

/// <summary>An admin change is checked whole before anything is written: a refused one changes nothing, and says every reason.</summary>
public class AdminWriteTests
{
    static async Task<SubscriberView> AddAsync(HttpClient client, SubscriberInput input)
    {
        var response = await client.PostAsJsonAsync("admin/api/subscribers", input);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<SubscriberView>())!;
    }

    [Theory]
    [InlineData("a rename with a bogus status", null, "Renamed", null, "bogus", "not 'bogus'")]
    [InlineData("new topics for an unsubscribed person, confirmed", "unsubscribed", "Ann Lee", "all", "confirmed", "cannot become confirmed")]
    [InlineData("new topics and a pause for an unsubscribed person", "unsubscribed", null, "training", "paused", "cannot become paused")]
    public async Task A_refused_change_stores_no_part_of_itself(string why, string? status, string? name, string? topics, string newStatus, string message)
    {
        var (test, client) = await AdminClient.StartAsync();
        await using var _ = test;
        using var __ = client;
        var ann = await AddAsync(client, new("ann@example.org", "Ann", "empathy", status));
        var before = StoredState.Read(test);

        var response = await client.PutAsJsonAsync($"admin/api/subscribers/{ann.Id}", new SubscriberInput(null, name, topics, newStatus));

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, why);
        Assert.Contains(message, await response.Content.ReadAsStringAsync());
        Assert.Equal(before, StoredState.Read(test));
    }

    [Fact]
    public async Task A_valid_change_of_name_topics_and_status_is_stored_together()
    {
        var (test, client) = await AdminClient.StartAsync();
        await using var _ = test;
        using var __ = client;
        var ann = await AddAsync(client, new("ann@example.org", "Ann", "empathy", null));

        var response = await client.PutAsJsonAsync($"admin/api/subscribers/{ann.Id}", new SubscriberInput(null, "Ann Lee", "all", "paused"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = (await test.Get<ISubscriberStore>().GetAsync(ann.Id))!;
        Assert.Equal(("Ann Lee", true, SubscriberStatus.Paused), (stored.Name, stored.AllTopics, stored.Status));
    }

    [Fact]
    public async Task A_400_names_every_invalid_field_at_once()
    {
        var (test, client) = await AdminClient.StartAsync();
        await using var _ = test;
        using var __ = client;

        var added = await client.PostAsJsonAsync("admin/api/subscribers", new SubscriberInput("not-an-address", "Ann\r\nBcc: x@example.org", "astrology", "bogus"));
        var changed = await client.PutAsJsonAsync("admin/api/subscribers/1", new SubscriberInput("x@example.org", new string('n', 101), "astrology", "bounced"));

        foreach (var response in new[] { added, changed })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = (await response.Content.ReadFromJsonAsync<HttpValidationProblemDetails>())!;
            Assert.Equal(["email", "name", "status", "topics"], problem.Errors.Keys.Order());
        }
        Assert.Equal(0, await test.Get<ISubscriberStore>().CountAsync());
    }

    [Fact]
    public async Task A_test_send_is_marked_test_in_its_subject_and_its_400_names_both_fields()
    {
        var (test, client) = await AdminClient.StartAsync();
        await using var _ = test;
        using var __ = client;
        await SampleContent.ImportAsync(test);

        var sent = await client.PostAsJsonAsync("admin/api/editions/2023-03/test-send", new TestSendInput("editor@example.org", null));
        var bad = await client.PostAsJsonAsync("admin/api/editions/2023-03/test-send", new TestSendInput("not an address", "nobody@example.org"));

        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        var message = Assert.Single(Outbox.To(test, "editor@example.org"));
        Assert.StartsWith("[TEST] ", message.Subject);
        Assert.StartsWith("[TEST] ", (await sent.Content.ReadFromJsonAsync<TestSendView>())!.Subject);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(["as", "to"], (await bad.Content.ReadFromJsonAsync<HttpValidationProblemDetails>())!.Errors.Keys.Order());
    }
}

/// <summary>An unsubscribe or a bounce outlives the deletion of the subscriber.</summary>
public class SuppressionTests
{
    [Theory]
    [InlineData("unsubscribed")]
    [InlineData("bounced")]
    public async Task A_deleted_person_who_had_stopped_mail_cannot_be_added_back_by_api_or_csv(string status)
    {
        var (test, client) = await AdminClient.StartAsync();
        await using var _ = test;
        using var __ = client;
        var store = test.Get<ISubscriberStore>();
        var ann = await store.AddAsync(new NewSubscriber("ann@example.org", "Ann", TopicSelection.All, status), ConsentContext.Admin);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"admin/api/subscribers/{ann.Id}")).StatusCode);
        var before = StoredState.Read(test);

        var api = await client.PostAsJsonAsync("admin/api/subscribers", new SubscriberInput("Ann@Example.org", "Ann", "all", null));
        var csv = await client.PostAsync("admin/api/subscribers/import",
            new StringContent("email,name,topics\nann@example.org,Ann,all\n", System.Text.Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.BadRequest, api.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, csv.StatusCode);
        Assert.Equal(before, StoredState.Read(test));
        Assert.True(await store.IsSuppressedAsync("ann@example.org"));
    }

    [Fact]
    public async Task A_deleted_confirmed_subscriber_can_be_added_again()
    {
        await using var test = await TestApp.CreateAsync();
        var store = test.Get<ISubscriberStore>();
        var ann = await store.AddAsync(new NewSubscriber("ann@example.org", "Ann", TopicSelection.All), ConsentContext.Admin);
        await store.DeleteAsync(ann.Id, ConsentContext.Admin);

        Assert.False(await store.IsSuppressedAsync("ann@example.org"));
        Assert.Equal(SubscriberStatus.Confirmed, (await store.AddAsync(new NewSubscriber("ann@example.org", "Ann", TopicSelection.All), ConsentContext.Admin)).Status);
    }
}
