using Dapper;
using Microsoft.Extensions.Time.Testing;
using PprnetNewsletter.Content;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Subscribers;

public class ConfirmationTokensTests
{
    static readonly ConsentContext Web = new(ConsentSource.Form, "203.0.113.9", "Mozilla/5.0 (test)", "consent-v2");

    sealed record Setup(TestApp Test, FakeTimeProvider Time, ISubscriberStore Store, ConfirmationTokens Tokens, long PendingId);

    static async Task<Setup> PendingSubscriberAsync(TestApp test)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var store = new SqliteSubscriberStore(test.Get<Db>(), test.Get<TopicCatalog>(), time);
        var pending = await store.SubscribeAsync("ann@example.org", "Ann", TopicSelection.All, Web);
        return new Setup(test, time, store, new ConfirmationTokens(store, time), pending.Subscriber.Id);
    }

    [Fact]
    public async Task A_token_confirms_its_subscriber_once_and_records_who_confirmed()
    {
        await using var test = await TestApp.CreateAsync();
        var s = await PendingSubscriberAsync(test);

        var issued = await s.Tokens.IssueAsync(s.PendingId);
        Assert.NotNull(issued);
        Assert.Equal(43, issued.Token.Length);
        Assert.Matches("^[A-Za-z0-9_-]+$", issued.Token);
        Assert.Equal(s.Time.GetUtcNow() + TimeSpan.FromHours(48), issued.ExpiresAt);
        Assert.Equal(ConfirmationStatus.Valid, await s.Tokens.CheckAsync(issued.Token));

        s.Time.Advance(TimeSpan.FromHours(47));
        var result = await s.Tokens.RedeemAsync(issued.Token, Web);

        Assert.Equal(ConfirmationStatus.Valid, result.Status);
        Assert.Equal(SubscriberStatus.Confirmed, result.Subscriber!.Status);
        Assert.Equal(s.Time.GetUtcNow(), result.Subscriber.ConfirmedAt);
        var confirmed = (await s.Store.ConsentEventsAsync(s.PendingId))[^1];
        Assert.Equal((ConsentEvent.Confirmed, ConsentSource.Form, "203.0.113.9", "Mozilla/5.0 (test)"),
            (confirmed.Event, confirmed.Source, confirmed.Ip, confirmed.UserAgent));

        var reused = await s.Tokens.RedeemAsync(issued.Token, Web);
        Assert.Equal(ConfirmationStatus.Used, reused.Status);
        Assert.Null(reused.Subscriber);
        Assert.Equal(2, (await s.Store.ConsentEventsAsync(s.PendingId)).Count);
    }

    [Fact]
    public async Task Only_the_hash_of_a_token_is_stored()
    {
        await using var test = await TestApp.CreateAsync();
        var s = await PendingSubscriberAsync(test);
        var issued = await s.Tokens.IssueAsync(s.PendingId);

        await using var connection = await test.Get<Db>().OpenAsync();
        var stored = Assert.Single(await connection.QueryAsync<string>("SELECT token_hash FROM confirmation_tokens"));
        var raw = System.Buffers.Text.Base64Url.DecodeFromChars(issued!.Token);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(raw)), stored);
        Assert.DoesNotContain(issued.Token, stored);
    }

    [Fact]
    public async Task An_expired_token_confirms_nobody()
    {
        await using var test = await TestApp.CreateAsync();
        var s = await PendingSubscriberAsync(test);
        var issued = await s.Tokens.IssueAsync(s.PendingId);

        s.Time.Advance(TimeSpan.FromHours(48));

        Assert.Equal(ConfirmationStatus.Expired, await s.Tokens.CheckAsync(issued!.Token));
        Assert.Equal(ConfirmationStatus.Expired, (await s.Tokens.RedeemAsync(issued.Token, Web)).Status);
        Assert.Equal(SubscriberStatus.Pending, (await s.Store.GetAsync(s.PendingId))!.Status);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-token")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/")]
    public async Task Unknown_or_malformed_tokens_confirm_nobody(string? token)
    {
        await using var test = await TestApp.CreateAsync();
        var s = await PendingSubscriberAsync(test);
        await s.Tokens.IssueAsync(s.PendingId);

        Assert.Equal(ConfirmationStatus.Unknown, (await s.Tokens.RedeemAsync(token, Web)).Status);
        Assert.Equal(SubscriberStatus.Pending, (await s.Store.GetAsync(s.PendingId))!.Status);
    }

    [Fact]
    public async Task A_token_that_differs_only_in_the_spare_bits_of_its_last_character_is_unknown()
    {
        await using var test = await TestApp.CreateAsync();
        var s = await PendingSubscriberAsync(test);
        var issued = await s.Tokens.IssueAsync(s.PendingId);
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var last = alphabet.IndexOf(issued!.Token[^1]);
        // 32 bytes use 256 of the last character's bits' 258: flipping the lowest bit decodes to the same bytes.
        var twin = issued.Token[..^1] + alphabet[last ^ 1];

        Assert.Equal(ConfirmationStatus.Unknown, (await s.Tokens.RedeemAsync(twin, Web)).Status);
        Assert.Equal(ConfirmationStatus.Valid, (await s.Tokens.RedeemAsync(issued.Token, Web)).Status);
    }

    [Fact]
    public async Task Confirming_spends_every_open_token_of_the_subscriber_and_an_unknown_subscriber_gets_none()
    {
        await using var test = await TestApp.CreateAsync();
        var s = await PendingSubscriberAsync(test);
        var first = await s.Tokens.IssueAsync(s.PendingId);
        var second = await s.Tokens.IssueAsync(s.PendingId);

        Assert.Equal(ConfirmationStatus.Valid, (await s.Tokens.RedeemAsync(second!.Token, Web)).Status);

        Assert.Equal(ConfirmationStatus.Used, await s.Tokens.CheckAsync(first!.Token));
        Assert.Null(await s.Tokens.IssueAsync(s.PendingId + 100));
    }
}
