using Dapper;
using Microsoft.Extensions.Time.Testing;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Delivery.DeliveryTestData;

namespace PprnetNewsletter.Tests.Delivery;

/// <summary>The engine against a real SMTP server over a loopback socket, scripted to fail on purpose.</summary>
public class SmtpDeliveryTests
{
    [Fact]
    public async Task Every_eligible_subscriber_receives_exactly_one_message_and_a_second_run_sends_none()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.CreateAsync(Fast(smtp.ClientConfig(connections: 3)));
        await SeedEditionAsync(test);
        var eligible = await SeedSubscribersAsync(test, 40);
        await SeedSubscribersAsync(test, 2, "pending", "pending");
        await SeedSubscribersAsync(test, 2, "paused", "paused");
        await SeedSubscribersAsync(test, 2, "gone", "unsubscribed");
        var suppressed = (await SeedSubscribersAsync(test, 1, "erased"))[0];
        await using (var connection = await test.Get<Db>().OpenAsync())
        {
            await connection.ExecuteAsync("INSERT INTO suppressions (email_hash, reason, created_at) VALUES (@hash, 'erased', 'x')",
                new { hash = PprnetNewsletter.Subscribers.SubscriberStore.SuppressionHash(" ERASED1@example.org") });
        }

        var first = await test.Sender().SendAsync(Month);
        var second = await test.Sender().SendAsync(Month);

        Assert.Equal(40, first.Sent);
        Assert.True(first.EditionSent);
        Assert.Equal(0, second.Processed);
        var counts = smtp.CountByRecipient();
        Assert.Equal(eligible.Order(), counts.Keys.Order());
        Assert.All(counts.Values, c => Assert.Equal(1, c));
        Assert.DoesNotContain(suppressed, counts.Keys);
        Assert.Equal(new Dictionary<string, long> { ["sent"] = 40 }, await StatesAsync(test));
        Assert.Equal(40, await ScalarAsync<long>(test, "SELECT count(*) FROM delivery_attempts WHERE outcome = 'sent'"));
        Assert.Equal("sent", await ScalarAsync<string>(test, "SELECT status FROM editions WHERE month = @Month", new { Month }));
        Assert.True(smtp.Sessions <= 3, $"{smtp.Sessions} connections for 3 pooled ones");
    }

    [Fact]
    public async Task A_451_then_success_is_delivered_after_a_retry_within_the_run()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.CreateAsync(Fast(smtp.ClientConfig()));
        await SeedEditionAsync(test);
        var emails = await SeedSubscribersAsync(test, 5);
        smtp.Script(emails[2], SmtpFault.AfterData(451, "4.3.0 Try again later"));

        var result = await test.Sender().SendAsync(Month);

        Assert.Equal(5, result.Sent);
        Assert.Equal(1, smtp.CountByRecipient()[emails[2]]);
        Assert.Equal(new Dictionary<string, long> { ["sent"] = 5 }, await StatesAsync(test));
    }

    [Fact]
    public async Task A_no_such_user_reply_fails_that_row_and_bounces_the_subscriber_while_everyone_else_is_delivered()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.CreateAsync(Fast(smtp.ClientConfig()));
        await SeedEditionAsync(test);
        var emails = await SeedSubscribersAsync(test, 6);
        smtp.Script(emails[3], SmtpFault.AtRcpt(550, "5.1.1 No such user here"));

        var result = await test.Sender().SendAsync(Month);

        Assert.Equal(5, result.Sent);
        Assert.Equal(1, result.Failed);
        Assert.False(smtp.CountByRecipient().ContainsKey(emails[3]));
        await using var connection = await test.Get<Db>().OpenAsync();
        var row = await connection.QuerySingleAsync<(string State, long Code, string Enhanced, string Reply)>(
            "SELECT d.state, d.smtp_code, d.enhanced_status, d.smtp_reply FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = @e",
            new { e = emails[3] });
        Assert.Equal(("failed", 550L, "5.1.1"), (row.State, row.Code, row.Enhanced));
        Assert.Contains("No such user", row.Reply);
        Assert.Equal("bounced", await connection.ExecuteScalarAsync<string>("SELECT status FROM subscribers WHERE email = @e", new { e = emails[3] }));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM consent_events c JOIN subscribers s ON s.id = c.subscriber_id WHERE s.email = @e AND c.event = 'bounced' AND c.source = 'bounce'",
            new { e = emails[3] }));
        // Edition complete: a failed row is finished work.
        Assert.True(result.EditionSent);
    }

    [Fact]
    public async Task A_permanent_refusal_fails_the_row_with_the_reply_but_does_not_bounce()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.CreateAsync(Fast(smtp.ClientConfig()));
        await SeedEditionAsync(test);
        var emails = await SeedSubscribersAsync(test, 3);
        smtp.Script(emails[0], SmtpFault.AfterData(554, "5.7.1 Message refused by policy"));

        var result = await test.Sender().SendAsync(Month);

        Assert.Equal((2L, 1L), (result.Sent, result.Failed));
        Assert.Equal("confirmed", await ScalarAsync<string>(test, "SELECT status FROM subscribers WHERE email = @e", new { e = emails[0] }));
        var status = await test.Sender().StatusAsync(Month);
        var reason = Assert.Single(status.TopReasons);
        Assert.Equal(("failed", "554 5.7.1", 1L), (reason.State, reason.Reason, reason.Count));
    }

    [Fact]
    public async Task A_connection_dropped_before_the_reply_is_retried_on_a_new_connection_and_delivered_once()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.CreateAsync(Fast(smtp.ClientConfig()));
        await SeedEditionAsync(test);
        var emails = await SeedSubscribersAsync(test, 8);
        smtp.Script(emails[4], SmtpFault.Drop);

        var result = await test.Sender().SendAsync(Month);

        Assert.Equal(8, result.Sent);
        Assert.All(emails, e => Assert.Equal(1, smtp.CountByRecipient()[e]));
    }

    [Fact]
    public async Task A_send_that_outlasts_its_leases_still_sends_each_subscriber_one_message()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        var config = Fast(smtp.ClientConfig(connections: 1));
        config["Delivery:LeaseDuration"] = "00:00:01";
        await using var test = await TestApp.CreateAsync(config);
        await SeedEditionAsync(test);
        var emails = await SeedSubscribersAsync(test, 300);
        // Each message takes a tenth of a second on the send's clock, so the rows of the first claim (256) are still
        // queued long after their one-second lease when the next claim comes.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        smtp.BeforeAccept = _ => clock.Advance(TimeSpan.FromMilliseconds(100));

        var result = await test.Sender(clock).SendAsync(Month);

        Assert.Equal(300, result.Sent);
        Assert.Equal(300, smtp.Received.Count);
        Assert.All(emails, e => Assert.Equal(1, smtp.CountByRecipient()[e]));
    }

    [Fact]
    public async Task With_the_server_down_longer_than_StopAfterOutage_the_run_stops_and_the_periodic_retry_delivers_once_it_is_back()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        var config = Fast(smtp.ClientConfig());
        config["Delivery:StopAfterOutage"] = "00:00:02";
        await using var test = await TestApp.CreateAsync(config);
        await SeedEditionAsync(test);
        var emails = await SeedSubscribersAsync(test, 30);
        smtp.Down = true;
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var progress = new SynchronousProgress(p => lines.Enqueue(ConsoleSendProgress.Format(p)));

        var down = await test.Sender().SendAsync(Month, progress);

        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"paused: relay not answering since \d\d:\d\d:\d\d$"));
        Assert.DoesNotContain(lines, l => l.Contains("paused") && l.Contains("ETA"));
        Assert.Equal(0, down.Sent);
        Assert.Contains("has not answered since", down.StoppedBecause);
        Assert.Contains("Delivery:StopAfterOutage is 00:00:02", down.StoppedBecause);
        Assert.Empty(smtp.Received);
        var states = await StatesAsync(test);
        Assert.False(states.ContainsKey("sending"));
        Assert.False(states.ContainsKey("failed"));
        Assert.Equal("sending", await ScalarAsync<string>(test, "SELECT status FROM editions WHERE month = @Month", new { Month }));

        smtp.Down = false;
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow + TimeSpan.FromHours(1));
        var resumed = await test.ResumeDueAsync(clock);

        Assert.Equal(30, Assert.Single(resumed).Sent);
        Assert.All(emails, e => Assert.Equal(1, smtp.CountByRecipient()[e]));
        Assert.Equal(new Dictionary<string, long> { ["sent"] = 30 }, await StatesAsync(test));
        Assert.Equal("sent", await ScalarAsync<string>(test, "SELECT status FROM editions WHERE month = @Month", new { Month }));
    }

    [Fact]
    public async Task A_deferred_row_fails_once_GiveUpAfter_has_passed_since_its_first_attempt()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        var config = Fast(smtp.ClientConfig(connections: 1));
        config["Delivery:DeferredRetryInterval"] = "00:05:00";
        await using var test = await TestApp.CreateAsync(config);
        await SeedEditionAsync(test);
        var emails = await SeedSubscribersAsync(test, 2);
        smtp.Script(emails[0], Enumerable.Repeat(SmtpFault.AfterData(451, "4.7.1 Greylisted"), 20).ToArray());
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);

        var first = await test.Sender(clock).SendAsync(Month);
        Assert.Equal((1L, 1L), (first.Sent, first.Deferred));
        Assert.Empty(await test.ResumeDueAsync(clock));   // not due yet at the same instant

        clock.Advance(TimeSpan.FromDays(3) + TimeSpan.FromMinutes(1));
        var last = Assert.Single(await test.ResumeDueAsync(clock));

        Assert.Equal(1, last.Failed);
        Assert.True(last.EditionSent);
        Assert.StartsWith("gave up after 3.00:00:00: 451 4.7.1",
            await ScalarAsync<string>(test, "SELECT last_error FROM deliveries WHERE state = 'failed'"));
    }

    [Fact]
    public async Task Refused_credentials_stop_the_send_at_once_and_mark_nothing_failed()
    {
        await using var smtp = await SmtpTestServer.StartAsync(credentials: ("digest", "right"));
        var config = Fast(smtp.ClientConfig());
        config["Smtp:Username"] = "digest";
        config["Smtp:Password"] = "wrong";
        await using var test = await TestApp.CreateAsync(config);
        await SeedEditionAsync(test);
        await SeedSubscribersAsync(test, 20);

        var halted = await Assert.ThrowsAsync<DeliveryHaltedException>(() => test.Sender().SendAsync(Month));

        Assert.Contains("credentials", halted.Message);
        Assert.Contains("Smtp:Password", halted.Message);
        Assert.Empty(smtp.Received);
        Assert.Equal(new Dictionary<string, long> { ["pending"] = 20 }, await StatesAsync(test));
    }

    [Fact]
    public async Task Right_credentials_are_used_and_accepted()
    {
        await using var smtp = await SmtpTestServer.StartAsync(credentials: ("digest", "right"));
        var config = Fast(smtp.ClientConfig());
        config["Smtp:Username"] = "digest";
        config["Smtp:Password"] = "right";
        await using var test = await TestApp.CreateAsync(config);
        await SeedEditionAsync(test);
        await SeedSubscribersAsync(test, 3);

        Assert.Equal(3, (await test.Sender().SendAsync(Month)).Sent);
    }

    [Fact]
    public async Task The_global_rate_limit_holds()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        var config = Fast(smtp.ClientConfig(connections: 4));
        config["Smtp:MessagesPerSecond"] = "20";
        await using var test = await TestApp.CreateAsync(config);
        await SeedEditionAsync(test);
        await SeedSubscribersAsync(test, 30);
        var arrivals = new System.Collections.Concurrent.ConcurrentQueue<long>();
        smtp.BeforeAccept = _ => arrivals.Enqueue(Environment.TickCount64);

        var started = Environment.TickCount64;
        var result = await test.Sender().SendAsync(Month);

        Assert.Equal(30, result.Sent);
        var times = arrivals.Order().ToArray();
        // 20 a second, started 50 ms apart: 30 messages need at least 29 × 50 ms.
        Assert.True(times[^1] - started >= 1400, $"30 messages in {times[^1] - started} ms");
        // Counted at the server as they arrive, whatever each message's own latency: never more than 20 in a second.
        var busiestSecond = times.Select(t => times.Count(u => u >= t && u < t + 1000)).Max();
        Assert.True(busiestSecond <= 20, $"{busiestSecond} messages within one second");
    }

    [Fact]
    public async Task Resend_failed_retries_exactly_the_failed_rows_as_a_new_round_with_history_kept()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.CreateAsync(Fast(smtp.ClientConfig()));
        await SeedEditionAsync(test);
        var emails = await SeedSubscribersAsync(test, 10);
        smtp.Script(emails[1], SmtpFault.AfterData(554, "5.7.1 Refused"));
        smtp.Script(emails[7], SmtpFault.AfterData(552, "5.3.4 Too big"));
        await test.Sender().SendAsync(Month);
        Assert.Equal(8, smtp.Received.Count);

        var resend = await test.Sender().ResendAsync(Month, new ResendRequest(ResendKind.Failed));

        Assert.Equal(2, resend.Queued);
        Assert.Equal(2, resend.Send.Sent);
        Assert.Equal(10, smtp.Received.Count);
        Assert.All(emails, e => Assert.Equal(1, smtp.CountByRecipient()[e]));
        var resent = smtp.Received.Skip(8).Select(m => m.Message.MessageId).Order().ToList();
        Assert.All(resent, id => Assert.EndsWith(".1@pprnet.example.org", id));
        Assert.Equal(2, await ScalarAsync<long>(test, "SELECT count(*) FROM deliveries WHERE resend_count = 1 AND state = 'sent'"));
        Assert.Equal(4, await ScalarAsync<long>(test, """
            SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.resend_count = 1
            """));
    }

    [Fact]
    public async Task Resend_to_one_address_sends_them_a_new_copy_and_nobody_else()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.CreateAsync(Fast(smtp.ClientConfig()));
        await SeedEditionAsync(test);
        var emails = await SeedSubscribersAsync(test, 4);
        await test.Sender().SendAsync(Month);

        var resend = await test.Sender().ResendAsync(Month, new ResendRequest(ResendKind.Email, emails[2].ToUpperInvariant()));

        Assert.Equal((1, 1L), (resend.Queued, resend.Send.Sent));
        Assert.Equal(2, smtp.CountByRecipient()[emails[2]]);
        Assert.Equal(5, smtp.Received.Count);
        await Assert.ThrowsAsync<PprnetNewsletter.Hosting.UsageException>(
            () => test.Sender().ResendAsync(Month, new ResendRequest(ResendKind.Email, "nobody@example.org")));
    }

    [Fact]
    public async Task Resend_new_sends_only_to_subscribers_confirmed_after_the_edition_went_out()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var test = await TestApp.CreateAsync(Fast(smtp.ClientConfig()));
        await SeedEditionAsync(test);
        await SeedSubscribersAsync(test, 3);
        await test.Sender().SendAsync(Month);
        var late = await SeedSubscribersAsync(test, 2, "late", confirmedAt: DateTimeOffset.UtcNow.AddMinutes(1));

        var resend = await test.Sender().ResendAsync(Month, new ResendRequest(ResendKind.New));
        var again = await test.Sender().ResendAsync(Month, new ResendRequest(ResendKind.New));

        Assert.Equal((2, 2L), (resend.Queued, resend.Send.Sent));
        Assert.Equal(0, again.Queued);
        Assert.Equal(5, smtp.Received.Count);
        Assert.All(late, e => Assert.Equal(1, smtp.CountByRecipient()[e]));
    }

    [Fact]
    public async Task Two_processes_sending_one_edition_at_once_deliver_each_subscriber_exactly_once()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var first = await TestApp.CreateAsync(Fast(smtp.ClientConfig()));
        var shared = Fast(smtp.ClientConfig());
        shared["Storage:Database"] = first.DatabasePath;
        await using var second = await TestApp.CreateAsync(shared);
        await SeedEditionAsync(first);
        var emails = await SeedSubscribersAsync(first, 60);

        var results = await Task.WhenAll(first.Sender().SendAsync(Month), second.Sender().SendAsync(Month));

        Assert.Equal(60, results.Sum(r => r.Sent));
        Assert.Equal(60, smtp.Received.Count);
        Assert.All(emails, e => Assert.Equal(1, smtp.CountByRecipient()[e]));
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    sealed class SynchronousProgress(Action<SendProgress> report) : IProgress<SendProgress>
    {
        public void Report(SendProgress value) => report(value);
    }
}
