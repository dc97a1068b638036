using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MimeKit;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Delivery.DeliveryTestData;

namespace PprnetNewsletter.Tests.Delivery;

/// <summary>
/// The durable mail queue's contract on both engines, with two apps on one database as two service instances: an
/// email is claimed by one worker only, retried after a wait, and taken over when its worker's lease lapsed.
/// </summary>
public sealed class MailQueueContractTests
{
    static async Task EnqueueAsync(TestApp app, int emails)
    {
        for (var i = 0; i < emails; i++)
        {
            using var message = Email(i);
            await app.Get<MailQueue>().EnqueueAsync("confirmation", message, CancellationToken.None);
        }
    }

    static MimeMessage Email(int i)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("PPRNet", "digest@pprnet.example.org"));
        message.To.Add(new MailboxAddress("", $"reader{i}@example.org"));
        message.Subject = "Please confirm";
        message.MessageId = $"confirm.{i}@pprnet.example.org";
        message.Body = new TextPart("plain") { Text = $"Confirm, reader {i}." };
        return message;
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Two_apps_claiming_the_queue_at_once_never_take_the_same_email(StorageProvider engine)
    {
        const int emails = 120;
        await using var first = await Engines.CreateAppAsync(engine);
        await using var second = await DeliveryStoreContractTests.SameDatabaseAsync(first);
        await EnqueueAsync(first, emails);

        async Task<List<long>> ClaimAllAsync(TestApp app, long owner)
        {
            var mine = new List<long>();
            while (await app.Get<MailQueue>().ClaimDueAsync(owner, TimeSpan.FromMinutes(1), limit: 3, CancellationToken.None) is { Count: > 0 } batch)
            {
                mine.AddRange(batch.Select(m => m.Id));
            }
            return mine;
        }
        var claims = await Task.WhenAll(Task.Run(() => ClaimAllAsync(first, 1)), Task.Run(() => ClaimAllAsync(second, 2)));

        Assert.Empty(claims[0].Intersect(claims[1]));
        Assert.Equal(emails, claims[0].Concat(claims[1]).Distinct().Count());
        Assert.Equal(emails, claims[0].Count + claims[1].Count);
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task The_workers_of_two_apps_send_every_queued_email_exactly_once_between_them(StorageProvider engine)
    {
        const int emails = 40;
        await using var first = await Engines.CreateAppAsync(engine);
        await using var second = await DeliveryStoreContractTests.SameDatabaseAsync(first);
        await EnqueueAsync(first, emails);

        // Each app's own delivery worker, writing to its own pickup directory, both at once.
        var workers = new[] { first, second }.Select(app => app.Get<DeliveryWorker>()).ToList();
        foreach (var worker in workers)
        {
            await worker.StartAsync(CancellationToken.None);
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (await first.Get<MailQueue>().CountOpenAsync() > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        foreach (var worker in workers)
        {
            await worker.StopAsync(CancellationToken.None);
        }

        var files = new[] { first, second }.SelectMany(app => Directory.Exists(app.OutboxPath) ? Directory.GetFiles(app.OutboxPath, "*.eml") : []).ToList();
        Assert.Equal(0, await first.Get<MailQueue>().CountOpenAsync());
        Assert.Equal(emails, files.Count);
        Assert.Equal(Enumerable.Range(0, emails).Select(i => $"reader{i}@example.org").Order(),
            files.Select(f => { using var m = MimeMessage.Load(f); return m.To.Mailboxes.Single().Address; }).Order());
        Assert.Equal((long)emails, await ScalarAsync<long>(first, "SELECT count(*) FROM mail_queue WHERE state = 'sent' AND sent_at IS NOT NULL"));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task An_email_waits_for_its_retry_time_a_lapsed_lease_frees_it_and_a_sent_one_keeps_no_body(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var store = test.Get<IMailQueueStore>();
        var now = new DateTimeOffset(2031, 5, 1, 9, 0, 0, TimeSpan.Zero);
        var retried = await store.InsertAsync("confirmation", "a@example.org", [1, 2, 3], "a@pprnet.example.org", now, CancellationToken.None);
        var leased = await store.InsertAsync("preferences-link", "b@example.org", [4, 5], null, now, CancellationToken.None);

        var claimed = await store.ClaimAsync(owner: 1, now, now.AddSeconds(30), limit: 10, CancellationToken.None);
        await store.SettleAsync(retried, "pending", now.AddSeconds(60), "421 try later", now, CancellationToken.None);
        var beforeRetryOrLapse = await store.ClaimAsync(owner: 2, now.AddSeconds(20), now.AddSeconds(50), 10, CancellationToken.None);
        var afterLapse = await store.ClaimAsync(owner: 2, now.AddSeconds(31), now.AddSeconds(61), 10, CancellationToken.None);
        var afterRetry = await store.ClaimAsync(owner: 2, now.AddSeconds(60), now.AddSeconds(90), 10, CancellationToken.None);
        await store.SettleAsync(retried, "sent", null, null, now.AddSeconds(61), CancellationToken.None);

        Assert.Equal([(retried, "confirmation", "a@example.org", "010203", 1L, now), (leased, "preferences-link", "b@example.org", "0405", 1L, now)],
            claimed.Select(m => (m.Id, m.Kind, m.Recipient, Convert.ToHexString(m.Message), m.Attempts, m.CreatedAt)).ToList());
        Assert.Empty(beforeRetryOrLapse);
        Assert.Equal((leased, 2L), (Assert.Single(afterLapse).Id, afterLapse[0].Attempts));
        Assert.Equal((retried, 2L), (Assert.Single(afterRetry).Id, afterRetry[0].Attempts));
        Assert.Equal(1L, await store.CountOpenAsync(CancellationToken.None));
        Assert.Equal(0L, await ScalarAsync<long>(test, "SELECT length(message) FROM mail_queue WHERE id = @retried", new { retried }));
    }
}
