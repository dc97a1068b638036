using System.Security.Cryptography;
using System.Text.RegularExpressions;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Digests;

/// <summary><c>pprnet dkim init</c>, run as the built binary.</summary>
public class DkimInitTests
{
    [Fact]
    public async Task Dkim_init_writes_a_private_2048_bit_key_beside_the_database_prints_its_record_and_never_overwrites_it()
    {
        await using var test = await TestApp.CreateAsync();
        var none = new Dictionary<string, string?>();

        var run = await PprnetProcess.RunAsync(test, none, "dkim", "init", "--domain", "PPRNet.Example.org", "--selector", "s2026");

        Assert.True(run.ExitCode == 0, run.Error);
        var path = Path.Combine(test.Folder, "dkim-pprnet.example.org-s2026.pem");
        Assert.True(File.Exists(path), run.Out);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        using var rsa = RSA.Create();
        rsa.ImportFromPem(await File.ReadAllTextAsync(path));
        Assert.Equal(2048, rsa.KeySize);
        var record = Regex.Match(run.Out, @"s2026\._domainkey\.pprnet\.example\.org\s+TXT\s+""v=DKIM1; k=rsa; p=([A-Za-z0-9+/=]+)""");
        Assert.True(record.Success, run.Out);
        Assert.Equal(Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()), record.Groups[1].Value);
        Assert.Matches(@"pprnet\.example\.org\s+TXT\s+""v=spf1 ", run.Out);
        Assert.Matches(@"_dmarc\.pprnet\.example\.org\s+TXT\s+""v=DMARC1; p=none; rua=mailto:", run.Out);
        Assert.Contains($"PPRNET_Dkim__PrivateKeyPath={path}", run.Out);

        var key = await File.ReadAllBytesAsync(path);
        var again = await PprnetProcess.RunAsync(test, none, "dkim", "init", "--domain", "pprnet.example.org", "--selector", "s2026");
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("exists already", again.Error);
        Assert.Equal(key, await File.ReadAllBytesAsync(path));

        // The key it wrote signs: the service starts with it configured.
        await using var signing = await TestApp.CreateAsync(new Dictionary<string, string?>
        {
            ["Dkim:Domain"] = "pprnet.example.org", ["Dkim:Selector"] = "s2026", ["Dkim:PrivateKeyPath"] = path,
        });
        Assert.True(signing.Get<PprnetNewsletter.Digests.DkimSigning>().Enabled);
    }

    [Theory]
    [InlineData("not a domain", "s1", "--domain")]
    [InlineData("pprnet.example.org", "bad selector!", "--selector")]
    public async Task Dkim_init_refuses_a_bad_domain_or_selector(string domain, string selector, string named)
    {
        await using var test = await TestApp.CreateAsync();
        var run = await PprnetProcess.RunAsync(test, new Dictionary<string, string?>(), "dkim", "init", "--domain", domain, "--selector", selector);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(named, run.Error);
        Assert.Empty(Directory.GetFiles(test.Folder, "dkim-*"));
    }
}
