using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using PprnetNewsletter.Admin;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Admin;

public class SubscriberApiTests
{
    [Fact]
    public async Task Subscribers_are_added_listed_searched_updated_and_deleted()
    {
        var (test, client) = await AdminClient.StartAsync();
        await using var _ = test;
        using var __ = client;

        var created = await client.PostAsJsonAsync("admin/api/subscribers", new SubscriberInput("ana@example.org", "Ana", "empathy;Training", null));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var ana = (await created.Content.ReadFromJsonAsync<SubscriberView>())!;
        Assert.Equal(("confirmed", "empathy;training"), (ana.Status, ana.Topics));
        Assert.Equal($"/admin/api/subscribers/{ana.Id}", created.Headers.Location?.OriginalString);
        await client.PostAsJsonAsync("admin/api/subscribers", new SubscriberInput("ben@example.org", "Ben", "all", null));

        var search = await client.GetFromJsonAsync<SubscriberListView>("admin/api/subscribers?search=ANA");
        Assert.Equal(["ana@example.org"], search!.Items.Select(s => s.Email));
        Assert.Equal(2, (await client.GetFromJsonAsync<SubscriberListView>("admin/api/subscribers?status=confirmed"))!.Total);

        var updated = await client.PutAsJsonAsync($"admin/api/subscribers/{ana.Id}", new SubscriberInput(null, "Ana S.", "all", "paused"));
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var view = (await updated.Content.ReadFromJsonAsync<SubscriberView>())!;
        Assert.Equal(("Ana S.", "all", "paused"), (view.Name, view.Topics, view.Status));

        var detail = await client.GetAsync($"admin/api/subscribers/{ana.Id}");
        Assert.Contains("\"consentEvents\"", await detail.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"admin/api/subscribers/{ana.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"admin/api/subscribers/{ana.Id}")).StatusCode);
        var events = await test.Get<ISubscriberStore>().ConsentEventsAsync(ana.Id);
        Assert.Empty(events);
    }

    [Fact]
    public async Task Bad_input_is_a_400_problem_that_says_what_is_wrong_and_nothing_is_stored()
    {
        var (test, client) = await AdminClient.StartAsync();
        await using var _ = test;
        using var __ = client;

        foreach (var (input, expected) in new (SubscriberInput, string)[]
        {
            (new("not-an-email", "", "all", null), "not a usable email address"),
            (new("ana@example.org", "Ana\r\nBcc: x@example.org", "all", null), "Name"),
            (new("ana@example.org", new string('n', 101), "all", null), "longer than 100"),
            (new("ana@example.org", "", "astrology", null), "astrology"),
        })
        {
            var response = await client.PostAsJsonAsync("admin/api/subscribers", input);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains(expected, (await response.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail);
        }
        var malformed = await client.PostAsync("admin/api/subscribers", new StringContent("{\"email\":", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, await test.Get<ISubscriberStore>().CountAsync());
    }

    [Fact]
    public async Task Csv_import_and_export_round_trip_and_a_bad_file_imports_nothing()
    {
        var (test, client) = await AdminClient.StartAsync();
        await using var _ = test;
        using var __ = client;
        const string csv = "email,name,topics\nana@example.org,Ana,empathy;training\nben@example.org,\"Ben, Jr.\",all\n";

        var imported = await client.PostAsync("admin/api/subscribers/import", new StringContent(csv, Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, imported.StatusCode);
        Assert.Equal(new ImportView(2, 0, 0), await imported.Content.ReadFromJsonAsync<ImportView>());

        var export = await client.GetAsync("admin/api/subscribers/export");
        Assert.Equal("text/csv", export.Content.Headers.ContentType?.MediaType);
        var exported = await export.Content.ReadAsStringAsync();
        Assert.Contains("ana@example.org", exported);
        Assert.Contains("\"Ben, Jr.\"", exported);

        var bad = await client.PostAsync("admin/api/subscribers/import",
            new StringContent("email,name,topics\ncy@example.org,Cy,all\nnope,X,all\n", Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("line 3", (await bad.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail);
        Assert.Null(await test.Get<ISubscriberStore>().FindByEmailAsync("cy@example.org"));
    }

    [Fact]
    public async Task A_csv_larger_than_the_general_body_limit_is_accepted_by_the_import()
    {
        var (test, client) = await AdminClient.StartAsync();
        await using var _ = test;
        using var __ = client;
        var csv = new StringBuilder("email,name,topics\n");
        for (var i = 0; csv.Length < 400 * 1024; i++)
        {
            csv.Append($"reader{i}@example.org,Reader number {i} of the research digest,all\n");
        }

        var imported = await client.PostAsync("admin/api/subscribers/import", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.OK, imported.StatusCode);
    }
}
