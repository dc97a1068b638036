using System.CommandLine;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Content;

public static class ContentSetup
{
    /// <summary>Topic taxonomy, summaries and editions, Markdown import (and the first start's import).</summary>
    public static IHostApplicationBuilder AddContent(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ContentOptions>(ContentOptions.Section);
        builder.Services.AddSingleton<TopicCatalog>();
        builder.AddStore<IContentStore, SqliteContentStore, PgContentStore>();
        builder.Services.AddSingleton<SummaryImporter>();
        builder.Services.AddSingleton<EditionCheck>();
        builder.Services.AddHostedService<FirstStartImport>();
        return builder;
    }

    /// <summary>The verb <c>topics</c>: the taxonomy, slug and name.</summary>
    public static Command TopicsVerb(this IHost app)
    {
        var topics = new Command("topics", "List the topic taxonomy: slug and name.");
        topics.SetAction(async (_, _) =>
        {
            var all = await app.Services.GetRequiredService<TopicCatalog>().AllAsync();
            var width = all.Max(t => t.Slug.Length);
            foreach (var topic in all)
            {
                Console.WriteLine($"{topic.Slug.PadRight(width)}  {topic.Name}");
            }
            return ExitCodes.Success;
        });
        return topics;
    }

    /// <summary>The verb <c>import PATH</c>: Markdown summaries into their editions, all or nothing.</summary>
    public static Command ImportVerb(this IHost app)
    {
        var path = new Argument<string>("PATH") { Description = "A summary file (.md), or a folder: every *.md in it and its subfolders." };
        var import = new Command("import", "Import Markdown summaries into their months' editions, all or nothing; "
            + "re-importing updates summaries by slug.") { path };
        import.SetAction(async (parsed, ct) =>
        {
            var result = await app.Services.GetRequiredService<SummaryImporter>().ImportAsync(parsed.GetValue(path)!, ct);
            Console.WriteLine(result);
            return ExitCodes.Success;
        });
        return import;
    }
}
