using Microsoft.Extensions.Options;
using PprnetNewsletter.Admin;
using PprnetNewsletter.Delivery;

namespace PprnetNewsletter.Hosting;

/// <summary>What the service prints once it listens: where to go, where the mail goes, how to reach the admin API.</summary>
public static class NextSteps
{
    public static IReadOnlyList<string> For(IServiceProvider services, IReadOnlyCollection<string> urls)
    {
        var site = (urls.FirstOrDefault() ?? "http://127.0.0.1:5080").TrimEnd('/');
        var mail = services.GetRequiredService<IMailTransport>().Describe();
        var apiKey = services.GetRequiredService<IOptions<AdminOptions>>().Value.ApiKey;
        var smtp = services.GetRequiredService<IOptions<SmtpOptions>>().Value;
        return
        [
            $"Listening on {string.Join(", ", urls)}. Press Ctrl-C to stop.",
            $"Database: {DataFolder.DescribeDatabase(services)}",
            $"Subscribe page: {site}/   Archive: {site}/archive",
            smtp.UsesPickupDirectory
                ? $"Mail goes to the {mail}: each message is an .eml file there. Set Smtp:Host (e.g. {ConfigurationSetup.EnvironmentVariable("Smtp:Host")}=mail.example.org) to send through a relay."
                : $"Mail goes through {mail}.",
            string.IsNullOrWhiteSpace(apiKey)
                ? $"Admin API: off. Set Admin:ApiKey (e.g. {ConfigurationSetup.EnvironmentVariable("Admin:ApiKey")}=<a long random key>) to turn it on at {site}{AdminSetup.RoutePrefix}."
                : $"Admin API: on at {site}{AdminSetup.RoutePrefix} (Authorization: Bearer <Admin:ApiKey>).",
            "Command line: pprnet --help (for instance: pprnet digest preview 2023-03 --email ADDRESS).",
        ];
    }
}
