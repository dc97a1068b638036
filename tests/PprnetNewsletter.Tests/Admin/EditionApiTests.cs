using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using PprnetNewsletter.Admin;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Admin;

public class EditionApiTests
{
    static async Task AddAsync(TestApp test, string email, TopicSelection? topics = null) =>
        await test.Get<ISubscriberStore>().AddAsync(new NewSubscriber(email, "", topics ?? TopicSelection.All), ConsentContext.Admin);

    [Fact]
    public async Task The_three_resends_go_through_the_api_failed_rows_new_subscribers_and_one_subscriber()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        var (test, admin) = await AdminClient.StartAsync(smtp.ClientConfig());
        await using var _ = test;
        using var __ = admin;
        await SampleContent.ImportAsync(test);
        await AddAsync(test, "ana@example.org");
        await AddAsync(test, "ben@example.org");
        smtp.Script("ben@example.org", SmtpFault.AtRcpt(550, "5.7.1 Rejected by policy"));

        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync("admin/api/editions/2023-03/send", null)).StatusCode);
        var first = await AdminJobs.WaitAsync(admin, "2023-03");
        Assert.Equal((1, 1), (first.Delivery.Counts["sent"], first.Delivery.Counts["failed"]));
        var failedRows = await admin.GetFromJsonAsync<DeliveryRowsView>("admin/api/editions/2023-03/deliveries?state=failed");
        var failedRow = Assert.Single(failedRows!.Items);
        Assert.Equal(("ben@example.org", 550), (failedRow.Email, failedRow.SmtpCode));

        // Resend to every failed row: the server accepts now.
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsJsonAsync("admin/api/editions/2023-03/resend", new ResendInput("failed", null))).StatusCode);
        var afterFailed = await AdminJobs.WaitAsync(admin, "2023-03");
        Assert.Equal((2, 0), (afterFailed.Delivery.Counts["sent"], afterFailed.Delivery.Counts["failed"]));

        // Resend to subscribers confirmed after the send.
        await AddAsync(test, "cy@example.org");
        await admin.PostAsJsonAsync("admin/api/editions/2023-03/resend", new ResendInput("new", null));
        await AdminJobs.WaitAsync(admin, "2023-03");

        // "I never got it": one subscriber.
        await admin.PostAsJsonAsync("admin/api/editions/2023-03/resend", new ResendInput("email", "ana@example.org"));
        var last = await AdminJobs.WaitAsync(admin, "2023-03");
        Assert.Null(last.LastJob!.Error);

        var received = smtp.CountByRecipient();
        Assert.Equal(2, received["ana@example.org"]);
        Assert.Equal(1, received["ben@example.org"]);
        Assert.Equal(1, received["cy@example.org"]);
        Assert.Equal(3, last.Delivery.Counts["sent"]);
    }

    [Fact]
    public async Task Editions_list_with_counts_and_bad_requests_are_problems()
    {
        var (test, admin) = await AdminClient.StartAsync();
        await using var _ = test;
        using var __ = admin;
        await SampleContent.ImportAsync(test);

        var editions = await admin.GetFromJsonAsync<List<PprnetNewsletter.Delivery.EditionStatusReport>>("admin/api/editions");
        Assert.Equal(["2023-03", "2023-01", "2022-12"], editions!.Select(e => e.Month));
        Assert.All(editions!, e => Assert.Equal("draft", e.Status));

        var unknown = await admin.GetAsync("admin/api/editions/2031-01");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        var badState = await admin.GetAsync("admin/api/editions/2023-03/deliveries?state=lost");
        Assert.Equal(HttpStatusCode.BadRequest, badState.StatusCode);
        Assert.Contains("state must be one of", (await badState.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail);
        var badKind = await admin.PostAsJsonAsync("admin/api/editions/2023-03/resend", new ResendInput("everyone", null));
        Assert.Equal(HttpStatusCode.BadRequest, badKind.StatusCode);
        var noSubscriber = await admin.PostAsJsonAsync("admin/api/editions/2023-03/resend", new ResendInput("email", "nobody@example.org"));
        Assert.Equal(HttpStatusCode.NotFound, noSubscriber.StatusCode);
    }

    [Fact]
    public async Task Preview_shows_a_subscribers_digest_as_html_and_test_send_mails_any_address()
    {
        var (test, admin) = await AdminClient.StartAsync();
        await using var _ = test;
        using var __ = admin;
        await SampleContent.ImportAsync(test);
        await AddAsync(test, "ana@example.org");

        var preview = await admin.GetAsync("admin/api/editions/2023-03/preview?email=ana@example.org");
        Assert.Equal(HttpStatusCode.OK, preview.StatusCode);
        Assert.Equal("text/html", preview.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Negative Effects of Psychotherapy", await preview.Content.ReadAsStringAsync());
        Assert.DoesNotContain("script-src", string.Join(" ", preview.Headers.GetValues("Content-Security-Policy")));

        var sent = await admin.PostAsJsonAsync("admin/api/editions/2023-03/test-send", new TestSendInput("editor@example.org", null));
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        var message = Assert.Single(Outbox.To(test, "editor@example.org"));
        Assert.Contains("Negative Effects of Psychotherapy", message.TextBody);
        Assert.Equal(0, (await test.Get<PprnetNewsletter.Delivery.EditionSender>().StatusAsync("2023-03")).Counts.Values.Sum());

        var bad = await admin.PostAsJsonAsync("admin/api/editions/2023-03/test-send", new TestSendInput("not an address", null));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }
}
