using System.CommandLine;

namespace PprnetNewsletter.Content;

public static class ContentSetup
{
    /// <summary>Topic taxonomy, summaries and editions, Markdown import.</summary>
    public static WebApplicationBuilder AddContent(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<TopicCatalog>();
        builder.Services.AddSingleton<ContentStore>();
        return builder;
    }

    /// <summary>The verbs <c>topics</c> and <c>import PATH</c>.</summary>
    public static IEnumerable<Command> ContentVerbs(this WebApplication app)
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
            return 0;
        });
        yield return topics;
    }
}
