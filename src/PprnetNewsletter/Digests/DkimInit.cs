using System.CommandLine;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Digests;

/// <summary>
/// <c>pprnet dkim init --domain D --selector S</c>: makes a 2048-bit RSA signing key beside the SQLite database, or with
/// PostgreSQL in the data folder beside config/ (<see cref="DataFolder.Of"/>; readable by its owner only, never over an
/// existing file) and prints what to publish in DNS and what to configure.
/// </summary>
public static partial class DkimInit
{
    public static Command DkimVerb(this IHost app)
    {
        var domain = new Option<string>("--domain") { Description = "The domain that signs: usually that of Newsletter:FromAddress.", Required = true };
        var selector = new Option<string>("--selector") { Description = "A name for this key, e.g. pprnet2026 (a new one for each new key).", Required = true };
        var init = new Command("init", "Write a 2048-bit DKIM key beside the database (with PostgreSQL: in data/) and print the DNS records to publish.") { domain, selector };
        init.SetAction(parsed =>
        {
            var d = parsed.GetValue(domain)!.Trim().TrimEnd('.').ToLowerInvariant();
            var s = parsed.GetValue(selector)!.Trim().ToLowerInvariant();
            if (!Hostname().IsMatch(d))
            {
                throw new UsageException($"--domain '{d}' is not a domain name, e.g. pprnet.example.org.");
            }
            if (!Label().IsMatch(s))
            {
                throw new UsageException($"--selector '{s}' must be letters, digits and '-' (at most 63), e.g. pprnet2026.");
            }
            var services = app.Services;
            var path = Path.Combine(DataFolder.Of(services), $"dkim-{d}-{s}.pem");
            using var rsa = RSA.Create(2048);
            if (!WriteNew(path, rsa.ExportRSAPrivateKeyPem()))
            {
                throw new UsageException($"{path} exists already and is kept as it is: a key in use must not change under its " +
                    "DNS record. To make a new key, choose a new --selector.");
            }
            var newsletter = services.GetRequiredService<IOptions<NewsletterOptions>>().Value;
            Console.WriteLine($"Wrote a 2048-bit DKIM key to {path} (readable by this user only). Back it up with the database, and give each instance that sends a copy.");
            Console.WriteLine();
            Console.WriteLine("1. Publish this TXT record (some DNS hosts want the value split into quoted strings of at most 255 characters):");
            Console.WriteLine($"   {s}._domainkey.{d}  TXT  \"v=DKIM1; k=rsa; p={Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo())}\"");
            Console.WriteLine();
            Console.WriteLine("2. If the domain has no SPF record yet, one that allows its mail servers (add your relay's 'include:' if it has one):");
            Console.WriteLine($"   {d}  TXT  \"v=spf1 mx ~all\"");
            Console.WriteLine();
            Console.WriteLine("3. If it has no DMARC record yet, start by only collecting reports; move to p=quarantine once they show all is well:");
            Console.WriteLine($"   _dmarc.{d}  TXT  \"v=DMARC1; p=none; rua=mailto:{newsletter.ContactEmail}\"");
            Console.WriteLine();
            Console.WriteLine("4. Then sign with it (config/appsettings.json, or these environment variables), and restart the service:");
            Console.WriteLine($"   {ConfigurationSetup.EnvironmentVariable("Dkim:Domain")}={d}");
            Console.WriteLine($"   {ConfigurationSetup.EnvironmentVariable("Dkim:Selector")}={s}");
            Console.WriteLine($"   {ConfigurationSetup.EnvironmentVariable("Dkim:PrivateKeyPath")}={path}");
            return ExitCodes.Success;
        });
        return new Command("dkim", "DKIM signing keys.") { init };
    }

    /// <summary>Creates <paramref name="path"/> with <paramref name="pem"/>, mode 0600; false, writing nothing, if it exists.</summary>
    static bool WriteNew(string path, string pem)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            using var stream = new FileStream(path, options);
            using var writer = new StreamWriter(stream);
            writer.Write(pem);
            writer.Flush();
            stream.Flush(flushToDisk: true);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
    }

    [GeneratedRegex(@"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")]
    private static partial Regex Hostname();

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex Label();
}
