using System.CommandLine;
using Microsoft.Extensions.Options;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Digests;

public static class DigestSetup
{
    /// <summary>Selection, Razor templates, MIME assembly, DKIM; the message source of the sending engine.</summary>
    public static IHostApplicationBuilder AddDigests(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<DigestOptions>(DigestOptions.Section);
        services.AddValidatedOptions<DkimOptions>(DkimOptions.Section);
        services.AddSingleton<IValidateOptions<DkimOptions>, DkimOptionsValidator>();

        services.AddSingleton<CompiledTemplateCache>();
        services.AddSingleton<EmailTemplates>();
        services.AddHostedService<TemplateWarmup>();    // compile every template before serving: a broken one stops start-up
        services.AddSingleton<DigestLinks>();
        services.AddSingleton<DkimSigning>();
        services.AddSingleton<MessageAssembly>();
        services.AddSingleton<EmailRenderer>();
        services.AddSingleton<EditionMessageFactory>();
        services.AddSingleton<IEditionMessageFactory>(sp => sp.GetRequiredService<EditionMessageFactory>());
        services.AddSingleton<SubscriptionEmails>();
        services.AddSingleton<DigestPreview>();
        return builder;
    }

    /// <summary>The verb <c>digest preview YYYY-MM --email EMAIL [--out DIR]</c>.</summary>
    public static Command PreviewVerb(this IHost app)
    {
        var month = new Argument<string>("month") { Description = "The edition, YYYY-MM." };
        var email = new Option<string>("--email") { Description = "The subscriber's address.", Required = true };
        var output = new Option<string?>("--out") { Description = "Folder to write EMAIL.eml, .html and .txt into (default: data/preview)." };
        var preview = new Command("preview", "Write one subscriber's digest (EMAIL.eml, .html, .txt) exactly as it would be sent.")
        {
            month, email, output,
        };
        preview.SetAction((parsed, ct) => ReportTemplateErrorsAsync(async () =>
        {
            // A folder typed on the command line is relative to the shell's directory; the default lives with the data.
            var folder = parsed.GetValue(output) is { } typed
                ? Path.GetFullPath(typed)
                : AppHome.Resolve(app.Services.GetRequiredService<IHostEnvironment>().ContentRootPath, "data/preview");
            await app.Services.GetRequiredService<EditionCheck>().RequireAsync(parsed.GetValue(month)!, ct);
            var outcome = await app.Services.GetRequiredService<DigestPreview>().WriteAsync(parsed.GetValue(month)!, parsed.GetValue(email)!, folder, ct);
            foreach (var line in outcome.Report)
            {
                Console.WriteLine(line);
            }
            return ExitCodes.Success;
        }));
        return preview;
    }

    /// <summary>A broken template is the operator's to fix: its file and line, not a stack trace.</summary>
    static async Task<int> ReportTemplateErrorsAsync(Func<Task<int>> verb)
    {
        try
        {
            return await verb();
        }
        catch (TemplateException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return ExitCodes.Failure;
        }
    }
}
