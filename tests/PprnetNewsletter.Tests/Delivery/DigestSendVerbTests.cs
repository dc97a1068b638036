using Dapper;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Content;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Delivery.DeliveryTestData;

namespace PprnetNewsletter.Tests.Delivery;

/// <summary>
/// The acceptance runs: the built binary with the real digests over the repository's sample content, on the
/// defaults (pickup directory) and against a real SMTP server that fails on purpose.
/// </summary>
public class DigestSendVerbTests
{
    /// <summary>The sample content, 14 readers of everything, and 3 whose only topic (Empathy) March 2023 lacks.</summary>
    static async Task<IReadOnlyList<string>> SeedAsync(TestApp test)
    {
        await test.Get<SummaryImporter>().ImportAsync(ContentFixtures.SampleFolder);
        var readers = await SeedSubscribersAsync(test, 14);
        var others = await SeedSubscribersAsync(test, 3, "empathy");
        await using var connection = await test.Get<Db>().OpenAsync();
        await connection.ExecuteAsync("""
            UPDATE subscribers SET all_topics = 0 WHERE email LIKE 'empathy%';
            INSERT INTO subscriber_topics (subscriber_id, topic_id)
            SELECT s.id, t.id FROM subscribers s, topics t WHERE s.email LIKE 'empathy%' AND t.slug = 'empathy';
            """);
        Assert.Equal(3, others.Count);
        return readers;
    }

    static readonly Dictionary<string, string?> Defaults = [];

    [Fact]
    public async Task The_enqueue_settles_as_skipped_exactly_the_readers_the_digest_has_nothing_for()
    {
        await using var test = await TestApp.CreateAsync();
        await test.Get<SummaryImporter>().ImportAsync(ContentFixtures.SampleFolder);
        await SeedSubscribersAsync(test, 80);
        await using (var connection = await test.Get<Db>().OpenAsync())
        {
            // Every reader but one in eight picks random topics (a fixed seed, so a failure repeats); a few pick none.
            var random = new Random(2023);
            var topics = (await connection.QueryAsync<long>("SELECT id FROM topics")).ToList();
            for (var id = 1; id <= 80; id++)
            {
                if (id % 8 == 0)
                {
                    continue;
                }
                await connection.ExecuteAsync("UPDATE subscribers SET all_topics = 0 WHERE id = @id", new { id });
                foreach (var topic in topics.Where(_ => random.Next(12) == 0))
                {
                    await connection.ExecuteAsync("INSERT INTO subscriber_topics (subscriber_id, topic_id) VALUES (@id, @topic)", new { id, topic });
                }
            }
        }
        // The digests feature's own verdict for every reader, before anything is sent.
        var prepared = (await test.Get<EditionMessageFactory>().PrepareAsync("2023-03"))!;
        var ledger = test.Get<IDeliveryStore>();
        var edition = (await ledger.FindEditionAsync("2023-03"))!;
        var expectSkipped = new SortedSet<long>();
        await foreach (var recipient in ledger.StreamEligibleAsync(edition.Id))
        {
            if (prepared.Compose(recipient, 0) is null)
            {
                expectSkipped.Add(recipient.SubscriberId);
            }
        }

        var result = await test.Get<EditionSender>().SendAsync("2023-03");

        await using var check = await test.Get<Db>().OpenAsync();
        var skipped = (await check.QueryAsync<(long Subscriber, long Attempts, string Error)>(
            "SELECT subscriber_id, attempts, last_error FROM deliveries WHERE state = 'skipped' ORDER BY subscriber_id")).ToList();
        Assert.InRange(expectSkipped.Count, 10, 70);   // the seed gives both kinds plenty of readers
        Assert.Equal(expectSkipped, skipped.Select(s => s.Subscriber));
        Assert.All(skipped, s => Assert.Equal((0L, DeliveryReason.NoMatchingTopics), (s.Attempts, s.Error)));
        Assert.Equal((80L - expectSkipped.Count, (long)expectSkipped.Count), (result.Sent, result.Skipped));
        Assert.Equal(80 - expectSkipped.Count, Directory.GetFiles(test.OutboxPath, "*.eml").Length);
    }

    [Fact]
    public async Task A_send_runs_on_a_plain_host_that_never_loads_the_web_stack()
    {
        await using var test = await TestApp.CreateAsync();
        var readers = await SeedAsync(test);

        var send = await LoadedAssemblies.RunAsync(test, Defaults, "digest", "send", "2023-03");

        Assert.True(send.Run.ExitCode == 0, send.Run.Error);
        Assert.Equal(readers.Count, Directory.GetFiles(test.OutboxPath, "*.eml").Length);
        Assert.Contains("MimeKit", send.Assemblies); // the probe sees what the send used
        // The web server, the web host and the admin API's document: what the service alone needs.
        Assert.DoesNotContain("Microsoft.AspNetCore.Server.Kestrel.Core", send.Assemblies);
        Assert.DoesNotContain("Microsoft.AspNetCore.Hosting", send.Assemblies);
        Assert.DoesNotContain("Microsoft.AspNetCore.OpenApi", send.Assemblies);
    }

    [Fact]
    public async Task On_defaults_digest_send_writes_one_eml_per_eligible_subscriber_and_a_second_run_writes_none()
    {
        await using var test = await TestApp.CreateAsync();
        var readers = await SeedAsync(test);

        var first = await PprnetProcess.RunAsync(test, Defaults, "digest", "send", "2023-03");
        var files = Directory.GetFiles(test.OutboxPath, "*.eml");
        var second = await PprnetProcess.RunAsync(test, Defaults, "digest", "send", "2023-03");

        Assert.Equal(0, first.ExitCode);
        Assert.Contains("14 sent, 0 failed, 0 deferred, 3 skipped", first.Out);
        Assert.Equal(readers.Count, files.Length);
        var recipients = files.Select(f => MimeKit.MimeMessage.Load(f)).Select(m => m.To.Mailboxes.Single().Address).Order();
        Assert.Equal(readers.Order(), recipients);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("0 sent, 0 failed, 0 deferred, 0 skipped", second.Out);
        Assert.Equal(files.Length, Directory.GetFiles(test.OutboxPath, "*.eml").Length);
    }

    [Fact]
    public async Task Against_a_failing_SMTP_server_each_reader_gets_one_message_and_resend_failed_retries_exactly_the_failed_rows()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.CreateAsync();
        var readers = await SeedAsync(test);
        smtp.Script(readers[0], SmtpFault.AfterData(451, "4.3.0 Try again later"));
        smtp.Script(readers[1], SmtpFault.Drop);
        smtp.Script(readers[2], SmtpFault.AtRcpt(550, "5.1.1 No such user"));
        smtp.Script(readers[3], SmtpFault.AfterData(554, "5.7.1 Refused for now"));
        smtp.Script(readers[4], SmtpFault.AfterData(554, "5.7.1 Refused for now"));
        var config = Fast(smtp.ClientConfig());

        var send = await PprnetProcess.RunAsync(test, config, "digest", "send", "2023-03");
        var afterSend = smtp.CountByRecipient();
        var status = await PprnetProcess.RunAsync(test, config, "digest", "status", "2023-03");
        var resend = await PprnetProcess.RunAsync(test, config, "digest", "resend", "2023-03", "--failed");

        Assert.Equal(0, send.ExitCode);
        Assert.Contains("11 sent, 3 failed, 0 deferred, 3 skipped", send.Out);
        Assert.Equal(readers.Except([readers[2], readers[3], readers[4]]).Order(), afterSend.Keys.Order());
        Assert.All(afterSend.Values, c => Assert.Equal(1, c));
        Assert.Contains("failed             3", status.Out);
        Assert.Contains("554 5.7.1", status.Out);
        Assert.Contains("550 5.1.1", status.Out);
        Assert.Equal(0, resend.ExitCode);
        Assert.Contains("2 messages queued", resend.Out);
        Assert.Contains("1 failed row left", resend.Out);
        var final = smtp.CountByRecipient();
        Assert.Equal(readers.Except([readers[2]]).Order(), final.Keys.Order());
        Assert.All(final.Values, c => Assert.Equal(1, c));
        Assert.Equal("bounced", await ScalarAsync<string>(test, "SELECT status FROM subscribers WHERE email = @e", new { e = readers[2] }));
    }

    [Fact]
    public async Task A_send_killed_mid_run_is_resumed_by_the_next_run_with_nobody_skipped_and_duplicates_bounded_by_messages_in_flight()
    {
        const int connections = 2;
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.CreateAsync();
        await test.Get<SummaryImporter>().ImportAsync(ContentFixtures.SampleFolder);
        var readers = await SeedSubscribersAsync(test, 200);
        var config = Fast(smtp.ClientConfig(connections));
        // A restart takes seconds, so a one-second lease has run out by the time the second run claims.
        config["Delivery:LeaseDuration"] = "00:00:01";
        System.Diagnostics.Process? child = null;
        var kills = 0;
        smtp.BeforeAccept = _ =>
        {
            // At or past 60, once: two sessions that accept at the same moment can both see 59 and then 61.
            if (smtp.Received.Count >= 60 && Interlocked.Exchange(ref kills, 1) == 0)
            {
                child!.Kill();   // SIGKILL: no chance to commit what the server is about to accept
            }
        };

        var killed = await PprnetProcess.RunAsync(test, config, p => child = p, "digest", "send", "2023-03");
        var states = await StatesAsync(test);
        smtp.BeforeAccept = null;
        var resumed = await PprnetProcess.RunAsync(test, config, "digest", "send", "2023-03");

        Assert.NotEqual(0, killed.ExitCode);
        Assert.True(states.GetValueOrDefault("pending") + states.GetValueOrDefault("sending") > 0, "the kill came too late to test anything");
        Assert.Equal(0, resumed.ExitCode);
        var counts = smtp.CountByRecipient();
        Assert.All(readers, r => Assert.True(counts.GetValueOrDefault(r) >= 1, $"{r} was skipped"));
        // In flight: one message per connection, plus the outcomes waiting for their commit.
        Assert.InRange(smtp.Received.Count - readers.Count, 0, SendRun.UnsettledPerConnection * connections);
        Assert.Equal(new Dictionary<string, long> { ["sent"] = 200 }, await StatesAsync(test));
    }

    [Fact]
    public async Task Resend_without_exactly_one_choice_is_bad_usage()
    {
        await using var test = await TestApp.CreateAsync();

        var none = await PprnetProcess.RunAsync(test, Defaults, "digest", "resend", "2023-03");
        var two = await PprnetProcess.RunAsync(test, Defaults, "digest", "resend", "2023-03", "--failed", "--new");

        Assert.Equal((2, 2), (none.ExitCode, two.ExitCode));
        Assert.Contains("exactly one of --email EMAIL, --failed or --new", none.Error);
    }
}
