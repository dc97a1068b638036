using System.Net;
using System.Net.Http.Headers;
using PprnetNewsletter.Admin.Dashboard;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Admin.Dashboard;

/// <summary>The dashboard's pages and actions over real HTTP, as a signed-in administrator.</summary>
public class DashboardPagesTests
{
    static async Task<long> AuditCountAsync(TestApp test) => await test.Get<AuditLog>().CountAsync();

    /// <summary>Loads <paramref name="page"/> (for its antiforgery token), posts the form, and checks one audit row was added.</summary>
    static async Task<HttpResponseMessage> ActAsync(TestApp test, WebSession session, string page, string action, params (string, string)[] fields)
    {
        await session.GetAsync(page);
        var before = await AuditCountAsync(test);
        var response = await session.PostFormAsync(action, WebSession.Fields(fields));
        Assert.True(await AuditCountAsync(test) == before + 1, $"POST {action}: {await AuditCountAsync(test) - before} audit rows");
        return response;
    }

    [Fact]
    public async Task Each_edition_action_adds_one_audit_row_and_the_detail_page_shows_failures_with_a_resend_each()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.StartWebAsync(smtp.ClientConfig());
        await SampleContent.ImportAsync(test);
        var store = test.Get<ISubscriberStore>();
        await store.AddAsync(new NewSubscriber("ana@example.org", "Ana", TopicSelection.All), ConsentContext.Admin);
        await store.AddAsync(new NewSubscriber("ben@example.org", "", TopicSelection.All), ConsentContext.Admin);
        smtp.Script("ben@example.org", SmtpFault.AtRcpt(550, "5.7.1 Rejected by policy"));
        using var session = await AdminDashboard.SignInAsync(test);
        const string edition = "/admin/editions/2023-03";

        var test1 = await ActAsync(test, session, edition, $"{edition}/test-send", ("to", "editor@example.org"), ("as", "ana@example.org"));
        Assert.Equal($"{edition}?done=test", test1.Headers.Location!.OriginalString);
        Outbox.WaitForMailQueue(test);
        Assert.Equal(["editor@example.org"], smtp.Received.Single().To);

        var (_, confirm) = await session.GetAsync($"{edition}/send");
        Assert.Contains("2 confirmed subscribers", confirm);
        await ActAsync(test, session, $"{edition}/send", $"{edition}/send");
        await WaitUntilSettledAsync(test);

        var (_, detail) = await session.GetAsync(edition);
        Assert.Contains("5.7.1 Rejected by policy", detail);
        Assert.Contains("<input type=\"hidden\" name=\"email\" value=\"ben@example.org\">", detail);
        Assert.Contains("<svg class=\"chart\"", detail);

        await ActAsync(test, session, edition, $"{edition}/resend", ("kind", "email"), ("email", "ben@example.org"));
        await WaitUntilSettledAsync(test);
        await ActAsync(test, session, edition, $"{edition}/resend", ("kind", "failed"));
        await WaitUntilSettledAsync(test);
        Assert.Equal((1, 1), (smtp.CountByRecipient()["ben@example.org"], smtp.CountByRecipient()["ana@example.org"]));
        Assert.Equal(0, (await test.Get<PprnetNewsletter.Delivery.EditionSender>().StatusAsync("2023-03")).Counts["failed"]);

        var (_, audit) = await session.GetAsync("/admin/audit");
        Assert.Contains("2023-03 to editor@example.org as ana@example.org", audit);
        Assert.Contains("2023-03 to ben@example.org", audit);
        Assert.Contains("127.0.0.1", audit);
    }

    [Fact]
    public async Task A_test_send_from_the_dashboard_is_marked_test_in_its_subject_like_the_api_one()
    {
        await using var test = await TestApp.StartWebAsync();
        await SampleContent.ImportAsync(test);
        await test.Get<ISubscriberStore>().AddAsync(new NewSubscriber("ana@example.org", "Ana", TopicSelection.All), ConsentContext.Admin);
        using var session = await AdminDashboard.SignInAsync(test);
        const string edition = "/admin/editions/2023-03";

        await ActAsync(test, session, edition, $"{edition}/test-send", ("to", "editor@example.org"), ("as", "ana@example.org"));

        var message = Assert.Single(Outbox.To(test, "editor@example.org"));
        Assert.StartsWith("[TEST] ", message.Subject);
    }

    /// <summary>Until no job started from the dashboard runs and no ledger row is waiting.</summary>
    static async Task WaitUntilSettledAsync(TestApp test)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var counts = (await test.Get<PprnetNewsletter.Delivery.EditionSender>().StatusAsync("2023-03")).Counts;
            if (test.Get<PprnetNewsletter.Delivery.DeliveryWorker>().Last("2023-03") is { Running: false } && counts.GetValueOrDefault("pending") == 0
                && counts.GetValueOrDefault("sending") == 0)
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, "the send did not finish");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task The_preview_frame_is_the_digest_as_sent_framable_only_by_the_dashboard_and_sandboxed()
    {
        await using var test = await TestApp.StartWebAsync();
        await SampleContent.ImportAsync(test);
        await test.Get<ISubscriberStore>().AddAsync(new NewSubscriber("ana@example.org", "Ana", TopicSelection.All), ConsentContext.Admin);
        using var session = await AdminDashboard.SignInAsync(test);

        var response = await session.Client.GetAsync("admin/editions/2023-03/preview.html?email=ana%40example.org");
        var (_, page) = await session.GetAsync("/admin/editions/2023-03/preview?email=ana%40example.org");
        var unknown = await session.Client.GetAsync("admin/editions/2023-03/preview?email=nobody%40example.org");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("SAMEORIGIN", response.Headers.GetValues("X-Frame-Options").Single());
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-ancestors 'self'", csp);
        Assert.Contains("sandbox", csp);
        Assert.DoesNotContain("script", csp);
        Assert.Contains("Capacity to Mentalize", await response.Content.ReadAsStringAsync());
        Assert.Contains("<iframe class=\"preview\" title=\"Digest of ana@example.org\" sandbox src=\"/admin/editions/2023-03/preview.html?email=ana%40example.org\"", page);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("No subscriber has the address", await unknown.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_live_progress_feed_sends_the_ledger_counts_as_server_sent_events()
    {
        await using var test = await TestApp.StartWebAsync();
        await SampleContent.ImportAsync(test);
        await test.Get<ISubscriberStore>().AddAsync(new NewSubscriber("ana@example.org", "Ana", TopicSelection.All), ConsentContext.Admin);
        await test.Get<PprnetNewsletter.Delivery.EditionSender>().SendAsync("2023-03");
        using var session = await AdminDashboard.SignInAsync(test);

        using var response = await session.Client.GetAsync("admin/editions/2023-03/progress", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("data: {\"counts\":{\"sent\":1,\"deferred\":0,\"failed\":0,\"skipped\":0,\"pending\":0},\"total\":1,\"percent\":100", first);
        using var json = System.Text.Json.JsonDocument.Parse(first!["data: ".Length..]);
        Assert.Equal("100 % · 1 sent", json.RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public async Task Uploads_are_all_or_nothing_with_every_problem_listed_by_file_and_line()
    {
        await using var test = await TestApp.StartWebAsync();
        using var session = await AdminDashboard.SignInAsync(test);
        await session.GetAsync("/admin/content");
        var before = await AuditCountAsync(test);

        using var bad = Upload(session, ("good.md", PprnetNewsletter.Tests.Content.ContentFixtures.Summary()),
            ("bad.md", PprnetNewsletter.Tests.Content.ContentFixtures.Summary(topics: "topics: [Empathy, Gestalt Therapy]", month: "month: 2023-13")));
        var refused = await session.Client.SendAsync(bad);
        var html = WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("Nothing was imported: 2 problems in 1 file (of 2 files read).", html);
        Assert.Matches(@"bad\.md \(line \d\): month '2023-13' is not a month", html);
        Assert.Matches(@"bad\.md \(line \d\): unknown topic 'Gestalt Therapy'", html);
        Assert.Equal(0, await test.Get<PprnetNewsletter.Content.IContentStore>().CountSummariesAsync());
        Assert.Equal(before, await AuditCountAsync(test));

        await session.GetAsync("/admin/content");
        using var good = Upload(session, ("good.md", PprnetNewsletter.Tests.Content.ContentFixtures.Summary()));
        var accepted = await session.Client.SendAsync(good);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Contains("Imported 1 summary (1 new, 0 updated) into 1 edition: 2023-05 (1).", await accepted.Content.ReadAsStringAsync());
        Assert.Equal(before + 1, await AuditCountAsync(test));
    }

    [Fact]
    public async Task The_summary_form_previews_saves_a_long_summary_through_the_import_and_keeps_a_sent_editions_summaries_read_only()
    {
        await using var test = await TestApp.StartWebAsync();
        await SampleContent.ImportAsync(test);
        await test.Get<ISubscriberStore>().AddAsync(new NewSubscriber("ana@example.org", "", TopicSelection.All), ConsentContext.Admin);
        await test.Get<PprnetNewsletter.Delivery.EditionSender>().SendAsync("2022-12");
        using var session = await AdminDashboard.SignInAsync(test);
        var body = string.Join("\n\n", Enumerable.Repeat("A paragraph with *emphasis* and \"quotes\": a colon, a # hash and a back\\slash.", 300));
        (string, string)[] Fields(string intent) =>
        [
            ("title", "Therapist \"Effects\": A Review"), ("month", "2023-05"), ("order", "1"), ("topics", "empathy"), ("topics", "training"),
            ("citation", "Doe, J. (2024). Title: subtitle. Journal, 1(2), 3–4."), ("research_type", "Meta-analysis"), ("slug", ""),
            ("body", body), ("implications", "Listen **more**."), ("intent", intent),
        ];

        await session.GetAsync("/admin/content/summaries/new");
        var preview = await session.PostFormAsync("/admin/content/summaries/new", WebSession.Fields(Fields("preview")));
        Assert.Equal(HttpStatusCode.OK, preview.StatusCode);
        Assert.Contains("<p>A paragraph with <em>emphasis</em>", await preview.Content.ReadAsStringAsync());
        Assert.Equal(1, await AuditCountAsync(test));   // the sign-in only: a preview changes nothing

        var saved = await ActAsync(test, session, "/admin/content/summaries/new", "/admin/content/summaries/new", Fields("save"));
        Assert.Equal("/admin/content?done=saved", saved.Headers.Location!.OriginalString);
        var stored = Assert.Single((await test.Get<PprnetNewsletter.Content.IContentStore>().GetEditionAsync("2023-05"))!.Summaries);
        Assert.Equal(("therapist-effects-a-review", "Therapist \"Effects\": A Review", "Doe, J. (2024). Title: subtitle. Journal, 1(2), 3–4."),
            (stored.Slug, stored.Title, stored.Citation));
        Assert.Contains("a # hash and a back\\slash.", stored.BodyText);
        Assert.Equal(["empathy", "training"], stored.Topics.Select(t => t.Slug).Order());

        // December 2022 has been sent: its summary is shown read-only, and a forged change is refused by the import's rule.
        var (_, sent) = await session.GetAsync("/admin/content/summaries/training-therapeutic-alliance");
        Assert.Contains("<fieldset disabled>", sent);
        var refused = await session.PostFormAsync("/admin/content/summaries/training-therapeutic-alliance", WebSession.Fields(
            ("title", "Changed"), ("month", "2022-12"), ("topics", "training"), ("body", "New."), ("implications", "New."), ("intent", "save")));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("its content can no longer change", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()));
    }

    static HttpRequestMessage Upload(WebSession session, params (string Name, string Text)[] files)
    {
        var form = new MultipartFormDataContent { { new StringContent(session.Antiforgery!), "__antiforgery" } };
        foreach (var (name, text) in files)
        {
            var content = new StringContent(text);
            content.Headers.ContentType = new MediaTypeHeaderValue("text/markdown");
            form.Add(content, "files", name);
        }
        return new HttpRequestMessage(HttpMethod.Post, "admin/content/upload") { Content = form };
    }

    [Fact]
    public async Task Subscriber_pages_search_filter_change_erase_after_a_confirmation_and_audit_each_action()
    {
        await using var test = await TestApp.StartWebAsync();
        var store = test.Get<ISubscriberStore>();
        var topics = test.Get<PprnetNewsletter.Content.TopicCatalog>();
        var empathy = (await topics.FindAsync("empathy"))!;
        var kim = await store.AddAsync(new NewSubscriber("kim@example.org", "Kim Lee", TopicSelection.Of([empathy.Id])), ConsentContext.Admin);
        await store.AddAsync(new NewSubscriber("lou@example.org", "Lou", TopicSelection.Of([(await topics.FindAsync("training"))!.Id])), ConsentContext.Admin);
        using var session = await AdminDashboard.SignInAsync(test);

        var (_, byTopic) = await session.GetAsync("/admin/subscribers?topic=empathy");
        Assert.Contains("kim@example.org", byTopic);
        Assert.DoesNotContain("lou@example.org", byTopic);
        Assert.Contains("1 found.", byTopic);
        var (_, bySearch) = await session.GetAsync("/admin/subscribers?search=LEE&status=confirmed");
        Assert.Contains("kim@example.org", bySearch);
        Assert.DoesNotContain("lou@example.org", bySearch);
        Assert.Contains("confirmed</a>: <strong>2</strong>", bySearch);

        var page = $"/admin/subscribers/{kim.Id}";
        await ActAsync(test, session, page, $"{page}/topics", ("topics", "training"), ("topics", "trauma-and-or-ptsd"));
        await ActAsync(test, session, page, $"{page}/pause");
        Assert.Equal(SubscriberStatus.Paused, (await store.GetAsync(kim.Id))!.Status);
        await ActAsync(test, session, page, $"{page}/resume");
        await ActAsync(test, session, page, $"{page}/unsubscribe");
        var (_, history) = await session.GetAsync(page);
        foreach (var consentEvent in new[] { "preferences_changed", "paused", "resumed", "unsubscribed" })
        {
            Assert.Contains($"<td>{consentEvent}</td><td>admin</td><td>127.0.0.1</td>", history);
        }

        var (_, confirm) = await session.GetAsync($"{page}/erase");
        Assert.Contains("Erase kim@example.org?", confirm);
        Assert.NotNull(await store.GetAsync(kim.Id));
        var erased = await ActAsync(test, session, $"{page}/erase", $"{page}/erase");
        Assert.Equal("/admin/subscribers?done=erased", erased.Headers.Location!.OriginalString);
        Assert.Null(await store.GetAsync(kim.Id));
        Assert.True(await store.IsSuppressedAsync("kim@example.org"));
    }

    [Fact]
    public async Task A_csv_upload_with_bad_rows_writes_nothing_and_lists_each_line_and_export_is_audited()
    {
        await using var test = await TestApp.StartWebAsync();
        using var session = await AdminDashboard.SignInAsync(test);
        await session.GetAsync("/admin/subscribers");

        var csv = "email,name,topics\nann@example.org,Ann,empathy\nnot-an-address,Bob,empathy\ncy@example.org,Cy,Gestalt Therapy\n";
        using var form = new MultipartFormDataContent
        {
            { new StringContent(session.Antiforgery!), "__antiforgery" },
            { new StringContent(csv), "file", "list.csv" },
        };
        var refused = await session.Client.PostAsync("admin/subscribers/import", form);
        var html = WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("line 3", html);
        Assert.Contains("line 4", html);
        Assert.Equal(0, await test.Get<ISubscriberStore>().CountAsync());

        var before = await AuditCountAsync(test);
        var export = await session.Client.GetAsync("admin/subscribers/export");
        Assert.Equal("text/csv", export.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("email,name,topics,status", await export.Content.ReadAsStringAsync());
        Assert.Equal(before + 1, await AuditCountAsync(test));
    }
}
