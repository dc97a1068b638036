using Microsoft.Extensions.Options;
using PprnetNewsletter.Bounces;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Bounces;

public class BounceStoreTests
{
    [Fact]
    public async Task A_report_keeps_at_most_256_KB_of_its_message_and_says_it_was_cut()
    {
        await using var test = await TestApp.CreateAsync();
        var store = test.Get<IBounceStore>();
        var large = new byte[300_000];
        Random.Shared.NextBytes(large);

        var id = await store.AddAsync(new NewBounceReport("imap", "<big@example.org>", ReportKind.AutoReply, null, null, null, null, null, large), default);

        var view = (await store.GetAsync(id!.Value, default))!;
        Assert.Equal((256 * 1024L, true), (view.RawBytes, view.RawTruncated));
        Assert.Equal(large[..(256 * 1024)], await store.RawAsync(id.Value, default));
        // The same event again is not stored twice.
        Assert.Null(await store.AddAsync(new NewBounceReport("imap", "<big@example.org>", ReportKind.AutoReply, null, null, null, null, null, [1]), default));
    }

    [Theory]
    [InlineData("Bounces:Address", "not-an-address", "Bounces:Address")]
    [InlineData("Bounces:Address", "bounces+x@pprnet.example.org", "'+'")]
    [InlineData("Bounces:Imap:Host", "127.0.0.1", "Bounces:Imap:Username")]
    [InlineData("Bounces:PollInterval", "00:00:01", "Bounces:PollInterval")]
    [InlineData("Bounces:SoftLimit", "0", "Bounces:SoftLimit")]
    [InlineData("Bounces:Webhooks:SesCertificatePath", "sns.pem", "Bounces:Webhooks:SesTopicArns")]
    public async Task A_bad_bounce_setting_stops_start_up_naming_the_key(string key, string value, string named)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestApp.CreateAsync(new Dictionary<string, string?> { [key] = value }));
        Assert.Contains(named, error.Message);
    }
}
