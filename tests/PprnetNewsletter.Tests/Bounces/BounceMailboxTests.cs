using Dapper;
using PprnetNewsletter.Bounces;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Content;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Delivery.DeliveryTestData;

namespace PprnetNewsletter.Tests.Bounces;

/// <summary>
/// The bounce reader against a real Dovecot: the March 2023 digests are sent through a real SMTP server, reports about
/// them are put into the mailbox with IMAP APPEND, and one pass of the reader must act on each as its kind says.
/// </summary>
public class BounceMailboxTests
{
    /// <summary>An app with VERP and the mailbox configured, the sample content, readers 1–8, and their digests sent.</summary>
    internal static async Task<(TestApp Test, IReadOnlyList<ReceivedMessage> Digests)> SendDigestsAsync(
        SmtpTestServer smtp, DovecotServer dovecot, int readers = 8)
    {
        var config = Fast(smtp.ClientConfig());
        config["Bounces:Address"] = Reports.BounceBase;
        foreach (var (key, value) in dovecot.ClientConfig())
        {
            config[key] = value;
        }
        var test = await TestApp.CreateAsync(config);
        await test.Get<SummaryImporter>().ImportAsync(ContentFixtures.SampleFolder);
        await SeedSubscribersAsync(test, readers);
        await test.Get<EditionSender>().SendAsync(Month);
        var digests = Enumerable.Range(1, readers)
            .Select(i => smtp.Received.Single(m => m.To.Single() == $"reader{i}@example.org"))
            .ToList();
        return (test, digests);
    }

    internal static async Task<string> StatusAsync(TestApp test, string email) =>
        (await test.Get<ISubscriberStore>().FindByEmailAsync(email))!.Status;

    [Fact]
    public async Task Each_kind_of_report_is_acted_on_moved_never_deleted_and_a_second_pass_changes_nothing()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var dovecot = await DovecotServer.StartAsync();
        var (test, digests) = await SendDigestsAsync(smtp, dovecot);
        await using var _ = test;

        // The envelope sender of every digest is its own signed VERP address, the From header stays as it was.
        Assert.All(digests, d => Assert.Matches(@"^bounces\+\d+\.\d+\.[0-9a-f]{20}@pprnet\.example\.org$", d.From));
        Assert.Equal(8, digests.Select(d => d.From).Distinct().Count());
        Assert.All(digests, d => Assert.Equal("digest@pprnet.example.org", d.Message.From.Mailboxes.Single().Address));

        var appended = new List<byte[]>
        {
            Reports.PostfixDsn(digests[0], "postfix-1"),        // reader1: VERP
            Reports.ExchangeDsn(digests[1], "exchange-1"),      // reader2: the recipient only
            Reports.GmailDsn(digests[2], "gmail-1"),            // reader3: the returned Message-ID only
            Reports.TransientDsn(digests[3], "delay-1"),        // reader4: three transient failures
            Reports.TransientDsn(digests[3], "delay-2"),
            Reports.TransientDsn(digests[3], "delay-3"),
            Reports.ArfComplaint(digests[4], "arf-1"),          // reader5: a spam complaint
            Reports.MailtoUnsubscribe(digests[5], "mailto-1"),  // reader6: the List-Unsubscribe mailto
            Reports.VacationReply(digests[6], "vacation-1"),    // reader7: away
            Reports.Unrelated("lunch-1"),
        };
        foreach (var raw in appended)
        {
            await dovecot.AppendAsync(raw);
        }

        var counts = await test.Get<BounceMailbox>().PollAsync(CancellationToken.None);

        Assert.Equal(0, counts.Errors);
        Assert.Equal(3, counts.ByKind[ReportKind.Permanent]);
        Assert.Equal(3, counts.ByKind[ReportKind.Transient]);
        Assert.Equal(1, counts.ByKind[ReportKind.Complaint]);
        Assert.Equal(1, counts.ByKind[ReportKind.Mailto]);
        Assert.Equal(1, counts.ByKind[ReportKind.AutoReply]);
        Assert.Equal(1, counts.ByKind[ReportKind.Unrecognised]);

        Assert.Equal("bounced", await StatusAsync(test, "reader1@example.org"));
        Assert.Equal("bounced", await StatusAsync(test, "reader2@example.org"));
        Assert.Equal("bounced", await StatusAsync(test, "reader3@example.org"));
        Assert.Equal("bounced", await StatusAsync(test, "reader4@example.org"));
        Assert.Equal("unsubscribed", await StatusAsync(test, "reader5@example.org"));
        Assert.Equal("unsubscribed", await StatusAsync(test, "reader6@example.org"));
        Assert.Equal("confirmed", await StatusAsync(test, "reader7@example.org"));
        Assert.Equal("confirmed", await StatusAsync(test, "reader8@example.org"));

        // The consent ledger says why, with the diagnostic; a complaint also suppresses the address.
        var events = await ConsentAsync(test);
        Assert.Contains(events, e => e is ("reader1@example.org", "bounced", "bounce", var d) && d!.Contains("5.1.1") && d.Contains("User unknown"));
        Assert.Contains(events, e => e is ("reader2@example.org", "bounced", "bounce", var d) && d!.Contains("RESOLVER.ADR.RecipientNotFound"));
        Assert.Contains(events, e => e is ("reader3@example.org", "bounced", "bounce", var d) && d!.Contains("does not exist"));
        Assert.Contains(events, e => e is ("reader4@example.org", "bounced", "bounce", var d) && d!.StartsWith("3 transient bounces", StringComparison.Ordinal));
        Assert.Contains(events, e => e is ("reader5@example.org", "unsubscribed", "complaint", _));
        Assert.Contains(events, e => e is ("reader6@example.org", "unsubscribed", "mailto", _));
        Assert.DoesNotContain(events, e => e.Email is "reader7@example.org" or "reader8@example.org" && e.Event != "confirmed");
        Assert.True(await test.Get<ISubscriberStore>().IsSuppressedAsync("reader5@example.org"));
        Assert.False(await test.Get<ISubscriberStore>().IsSuppressedAsync("reader6@example.org"));

        // The ledger rows of the permanent bounces are failed with the diagnostic; the others stay sent.
        var rows = (await QueryAsync<(string Email, string State, string? Error)>(test, """
            SELECT s.email, d.state, d.last_error FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id ORDER BY s.id
            """)).ToDictionary(r => r.Email);
        Assert.Equal("failed", rows["reader1@example.org"].State);
        Assert.Contains("User unknown", rows["reader1@example.org"].Error);
        Assert.Equal("failed", rows["reader2@example.org"].State);
        Assert.Equal("failed", rows["reader3@example.org"].State);
        Assert.Equal("sent", rows["reader7@example.org"].State);
        Assert.Equal("sent", rows["reader8@example.org"].State);

        // Reports went to Processed, the lunch invitation to Unrecognised, nothing was deleted, nothing left behind.
        var folders = await dovecot.ContentsAsync();
        Assert.Empty(folders["INBOX"]);
        Assert.Equal(["Lunch on Friday?"], folders[BounceMailbox.UnrecognisedFolder]);
        Assert.Equal(9, folders[BounceMailbox.ProcessedFolder].Count);
        Assert.Equal(appended.Count, folders.Values.Sum(f => f.Count));

        // Each report is kept with its outcome (the unrelated message is not: it is nobody's report).
        var stored = await QueryAsync<(string Kind, string Outcome)>(test, "SELECT kind, outcome FROM bounce_reports ORDER BY id");
        Assert.Equal(9, stored.Count);
        Assert.Equal(["transient bounce 1 of 3 within 30 days", "transient bounce 2 of 3 within 30 days"],
            stored.Where(s => s.Kind == "transient").Select(s => s.Outcome).Take(2));
        Assert.Equal("ignored (automatic reply)", stored.Single(s => s.Kind == "autoreply").Outcome);

        // A second pass finds nothing to do, and changes nothing.
        var snapshot = await SnapshotAsync(test);
        var again = await test.Get<BounceMailbox>().PollAsync(CancellationToken.None);
        Assert.Equal(0, again.Total);
        Assert.Equal(snapshot, await SnapshotAsync(test));
        Assert.Equal(folders, await dovecot.ContentsAsync());
    }

    [Fact]
    public async Task A_report_appended_again_after_it_was_handled_has_no_second_effect()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var dovecot = await DovecotServer.StartAsync();
        var (test, digests) = await SendDigestsAsync(smtp, dovecot, readers: 1);
        await using var _ = test;
        var delay = Reports.TransientDsn(digests[0], "delay-same");

        await dovecot.AppendAsync(delay);
        await test.Get<BounceMailbox>().PollAsync(CancellationToken.None);
        // The same report again (a move that failed after it was handled leaves it in the folder).
        await dovecot.AppendAsync(delay);
        await dovecot.AppendAsync(delay);
        var counts = await test.Get<BounceMailbox>().PollAsync(CancellationToken.None);

        Assert.Equal((2, 2), (counts.ByKind[ReportKind.Transient], counts.Replays));
        Assert.Equal(1, await ScalarAsync<long>(test, "SELECT count(*) FROM bounce_reports"));
        Assert.Equal("confirmed", await StatusAsync(test, "reader1@example.org"));
        Assert.Equal(3, (await dovecot.ContentsAsync())[BounceMailbox.ProcessedFolder].Count);

        // The report holds the address: erasing the subscriber removes it too.
        var reader = (await test.Get<ISubscriberStore>().FindByEmailAsync("reader1@example.org"))!;
        Assert.True(await test.Get<ISubscriberStore>().EraseAsync(reader.Id, ConsentContext.Admin));
        Assert.Equal(0, await ScalarAsync<long>(test, "SELECT count(*) FROM bounce_reports"));

        // A bounce about the erased subscriber arriving later is kept about nobody, not an error every poll.
        await dovecot.AppendAsync(Reports.PostfixDsn(digests[0], "after-erasure"));
        var later = await test.Get<BounceMailbox>().PollAsync(CancellationToken.None);
        Assert.Equal((1, 0), (later.ByKind[ReportKind.Permanent], later.Errors));
        Assert.Equal("no subscriber matched: nothing changed", await ScalarAsync<string>(test, "SELECT outcome FROM bounce_reports"));
    }

    [Fact]
    public async Task The_service_reads_the_mailbox_every_poll_interval()
    {
        await using var dovecot = await DovecotServer.StartAsync();
        var config = dovecot.ClientConfig();
        config["Bounces:PollInterval"] = "00:00:05";
        await using var test = await TestApp.StartWebAsync(config);
        var reader = await test.Get<ISubscriberStore>().AddAsync(new NewSubscriber("reader@example.org", "", TopicSelection.All), ConsentContext.Admin);
        var mailto = $"unsubscribe-{test.Get<LinkTokens>().Create(reader.Id, LinkPurpose.Unsubscribe)}";

        await dovecot.AppendAsync(System.Text.Encoding.UTF8.GetBytes(
            $"From: <reader@example.org>\r\nTo: <digest@pprnet.example.org>\r\nSubject: {mailto}\r\nMessage-ID: <m1@example.org>\r\n\r\nplease\r\n"));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (await StatusAsync(test, "reader@example.org") != "unsubscribed" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }
        Assert.Equal("unsubscribed", await StatusAsync(test, "reader@example.org"));
    }

    static async Task<List<(string? Email, string Event, string Source, string? Detail)>> ConsentAsync(TestApp test) =>
        await QueryAsync<(string? Email, string Event, string Source, string? Detail)>(test, """
            SELECT s.email, c.event, c.source, c.detail FROM consent_events c LEFT JOIN subscribers s ON s.id = c.subscriber_id ORDER BY c.id
            """);

    static async Task<List<T>> QueryAsync<T>(TestApp test, string sql)
    {
        await using var connection = await test.Get<Db>().OpenAsync();
        return (await connection.QueryAsync<T>(sql)).ToList();
    }

    /// <summary>Every subscriber, consent event, delivery and report, as text.</summary>
    static async Task<string> SnapshotAsync(TestApp test)
    {
        var lines = new List<string>();
        foreach (var table in new[] { "subscribers", "consent_events", "deliveries", "delivery_attempts", "bounce_reports", "suppressions" })
        {
            foreach (IDictionary<string, object?> row in await QueryAsync<dynamic>(test, $"SELECT * FROM {table} ORDER BY 1"))
            {
                lines.Add(table + ": " + string.Join(" | ", row.Select(c => $"{c.Key}={(c.Value is byte[] b ? b.Length : c.Value)}")));
            }
        }
        return string.Join('\n', lines);
    }
}
