using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;
using Xunit.Abstractions;
using static PprnetNewsletter.Tests.Digests.DigestTestData;

namespace PprnetNewsletter.Tests.Digests;

/// <summary>
/// Every kind of email the service sends, scored by a stock SpamAssassin with local tests only (<c>spamassassin -L -t</c>).
/// The test fails when SpamAssassin is missing, saying how to install it.
/// </summary>
public partial class CleanMailTests(ITestOutputHelper output)
{
    const string SpamAssassin = "/usr/bin/spamassassin";

    /// <summary>
    /// Rules that fire only because the message has not travelled yet: no Received header, no relay. They say nothing
    /// about the message itself, and a relay adds what they miss.
    /// </summary>
    static readonly HashSet<string> MissingRelayRules = ["NO_RELAYS", "NO_RECEIVED", "MISSING_MID_BEFORE_RELAY"];

    /// <summary>The four kinds of email, each as it would go over SMTP.</summary>
    internal static async Task<Dictionary<string, byte[]>> AllKindsAsync(TestApp test)
    {
        await SeedAsync(test);
        var edition = (await test.Get<EditionMessageFactory>().PrepareAsync(Month))!;
        var emails = test.Get<SubscriptionEmails>();
        return new Dictionary<string, byte[]>
        {
            ["digest"] = RoundTrip(edition.Compose(await RecipientAsync(test, Ann), 0)!).Raw,
            ["nothing on your topics"] = RoundTrip(edition.Compose(await RecipientAsync(test, Carol), 0)!).Raw,
            ["confirmation"] = RoundTrip(await emails.ConfirmationAsync((await test.Get<ISubscriberStore>().GetAsync(Dan))!,
                "Jx7kQm2_Zr9-Vb4nLc8tWp3sYd6hFa1eGu5oKi0R")).Raw,
            ["manage preferences"] = RoundTrip(await emails.ManagePreferencesAsync((await test.Get<ISubscriberStore>().GetAsync(Bob))!)).Raw,
        };
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_kind_of_email_scores_at_most_zero_on_stock_spamassassin(bool signed)
    {
        Assert.True(File.Exists(SpamAssassin), $"SpamAssassin is not installed ({SpamAssassin} is missing): apt-get install spamassassin");
        var config = new Dictionary<string, string?> { ["Digest:SendWhenNoMatch"] = "true", ["Bounces:Address"] = "bounces@pprnet.example.org" };
        var key = Path.Combine(Path.GetTempPath(), $"pprnet-dkim-{Guid.NewGuid():N}.pem");
        if (signed)
        {
            using var rsa = System.Security.Cryptography.RSA.Create(2048);
            await File.WriteAllTextAsync(key, rsa.ExportRSAPrivateKeyPem());
            config["Dkim:Domain"] = "pprnet.example.org";
            config["Dkim:Selector"] = "s1";
            config["Dkim:PrivateKeyPath"] = key;
        }
        try
        {
            await using var test = await TestApp.CreateAsync(config);
            var failures = new List<string>();
            foreach (var (kind, raw) in await AllKindsAsync(test))
            {
                var report = await ScoreAsync(raw);
                var rules = Rules().Matches(report).Select(m => (Score: double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), Name: m.Groups[2].Value))
                    .Where(r => !MissingRelayRules.Contains(r.Name)).ToList();
                var score = rules.Sum(r => r.Score);
                output.WriteLine($"{kind}: {score:0.0##} ({string.Join(", ", rules.Select(r => $"{r.Name} {r.Score}"))})");
                if (score > 0.0)
                {
                    failures.Add($"{kind} scores {score}:\n{report}");
                }
            }
            Assert.True(failures.Count == 0, string.Join("\n\n", failures));
        }
        finally
        {
            File.Delete(key);
        }
    }

    [Fact]
    public async Task No_email_scrolls_sideways_on_a_320_px_phone()
    {
        await using var test = await TestApp.CreateAsync(new Dictionary<string, string?> { ["Digest:SendWhenNoMatch"] = "true" });
        using var browser = Browser.Start();
        // A phone: 320 CSS pixels wide, honouring the emails' viewport meta tag as a phone's mail program does.
        browser.Driver.ExecuteCdpCommand("Emulation.setDeviceMetricsOverride", new Dictionary<string, object?>
        {
            ["width"] = 320, ["height"] = 640, ["deviceScaleFactor"] = 1, ["mobile"] = true,
        });
        var overflowing = new List<string>();
        foreach (var (kind, raw) in await AllKindsAsync(test))
        {
            var html = Path.Combine(test.Folder, kind.Replace(' ', '-') + ".html");
            await File.WriteAllTextAsync(html, MimeKit.MimeMessage.Load(new MemoryStream(raw)).HtmlBody);
            browser.GoTo(new Uri(html));
            var width = Convert.ToInt64(browser.Driver.ExecuteScript("return document.documentElement.scrollWidth;"), CultureInfo.InvariantCulture);
            output.WriteLine($"{kind}: {width} px");
            browser.Screenshot("email-320-" + kind.Replace(' ', '-'));
            if (width > 320)
            {
                overflowing.Add($"{kind} is {width} px wide");
            }
        }
        Assert.Empty(overflowing);
    }

    static async Task<string> ScoreAsync(byte[] raw)
    {
        var start = new ProcessStartInfo(SpamAssassin) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-L");
        start.ArgumentList.Add("-t");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.BaseStream.WriteAsync(raw);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        var text = await stdout;
        await stderr;
        // The report follows the message: " pts rule name              description" and one line per rule.
        var at = text.LastIndexOf("Content analysis details:", StringComparison.Ordinal);
        Assert.True(at >= 0, $"No SpamAssassin report in its output: {text}");
        return text[at..];
    }

    [GeneratedRegex(@"(?m)^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s")]
    private static partial Regex Rules();
}
