using System.CommandLine;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;

namespace PprnetNewsletter.Subscribers;

public static class SubscribersSetup
{
    /// <summary>Subscribers, topic preferences, consent ledger, double opt-in and link tokens.</summary>
    public static IHostApplicationBuilder AddSubscribers(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<TokenOptions>(TokenOptions.Section);
        builder.AddStore<ISubscriberStore, SqliteSubscriberStore, PgSubscriberStore>();
        builder.Services.AddSingleton<TopicChoices>();
        builder.Services.AddSingleton<SubscriberCsv>();
        builder.Services.AddSingleton<ConfirmationTokens>();
        builder.AddStore<ITokenKeyStore, SqliteTokenKeyStore, PgTokenKeyStore>();
        builder.Services.AddSingleton<SqliteTokenKeyStore>();
        builder.Services.AddSingleton<IStorageCopyStep, TokenKeyCopyStep>();
        builder.Services.AddSingleton<TokenKeys>();
        builder.Services.AddSingleton<LinkTokens>();
        builder.Services.AddSingleton<SubscriberLinks>();
        return builder;
    }

    /// <summary>The verb <c>subscribers</c> with <c>add</c>, <c>list</c>, <c>import</c> and <c>export</c>.</summary>
    public static Command SubscriberVerbs(this IHost app)
    {
        var services = app.Services;
        return new Command("subscribers", "Add, list, import and export subscribers.")
        {
            AddVerb(services),
            ListVerb(services),
            ImportVerb(services),
            ExportVerb(services),
        };
    }

    static Command AddVerb(IServiceProvider services)
    {
        var email = new Argument<string>("EMAIL") { Description = "The subscriber's email address." };
        var name = new Option<string?>("--name") { Description = "The subscriber's name, used in the greeting." };
        var topics = new Option<string?>("--topics")
        {
            Description = "Topics by slug or name, separated by ',' or ';' (see 'pprnet topics').",
        };
        var allTopics = new Option<bool>("--all-topics") { Description = "Subscribe to every topic." };
        var add = new Command("add", "Add a confirmed subscriber (consent source: admin).") { email, name, topics, allTopics };
        add.SetAction(async (parsed, ct) =>
        {
            var topicText = parsed.GetValue(topics);
            var all = parsed.GetValue(allTopics);
            if (all == (topicText is not null))
            {
                throw new UsageException(all
                    ? "Give either --topics or --all-topics, not both."
                    : "Choose what the subscriber reads: --topics A,B (slugs or names; see 'pprnet topics') or --all-topics.");
            }
            var selection = all ? TopicSelection.All : await services.GetRequiredService<TopicChoices>().ParseAsync(topicText);
            var added = await services.GetRequiredService<ISubscriberStore>().AddAsync(
                new NewSubscriber(parsed.GetValue(email)!, parsed.GetValue(name) ?? "", selection), ConsentContext.Admin, ct);
            Console.WriteLine($"Added {added.Email} (id {added.Id}), confirmed, {DescribeTopics(added)}.");
            return ExitCodes.Success;
        });
        return add;
    }

    static Command ListVerb(IServiceProvider services)
    {
        var status = new Option<string?>("--status") { Description = $"Only this status: {string.Join(", ", SubscriberStatus.All)}." };
        var search = new Option<string?>("--search") { Description = "Only addresses or names containing this text (any case)." };
        var list = new Command("list", "List subscribers: email, name, status and topics.") { status, search };
        list.SetAction(async (parsed, ct) =>
        {
            var filter = new SubscriberFilter(parsed.GetValue(search), parsed.GetValue(status));
            const string Row = "{0,-40}  {1,-30}  {2,-12}  {3}";
            // The first row is read before the header is printed: a bad filter fails there, and its message goes to
            // standard error alone, with nothing half-printed on standard output.
            await using var rows = services.GetRequiredService<ISubscriberStore>().StreamAllAsync(filter, ct).GetAsyncEnumerator(ct);
            var more = await rows.MoveNextAsync();
            Console.WriteLine(Row, "EMAIL", "NAME", "STATUS", "TOPICS");
            var count = 0;
            for (; more; more = await rows.MoveNextAsync())
            {
                var subscriber = rows.Current;
                Console.WriteLine(Row, subscriber.Email, subscriber.Name, subscriber.Status,
                    subscriber.AllTopics ? TopicChoices.AllKeyword : subscriber.TopicIds.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
                count++;
            }
            Console.WriteLine(Counted.Of(count, "subscriber"));
            return ExitCodes.Success;
        });
        return list;
    }

    static Command ImportVerb(IServiceProvider services)
    {
        var file = new Argument<FileInfo>("FILE.csv") { Description = "CSV with the header email,name,topics (topics separated by ';', or 'all')." };
        var import = new Command("import", "Add or update subscribers from a CSV file, all or nothing (consent source: csv).") { file };
        import.SetAction(async (parsed, ct) =>
        {
            var path = parsed.GetValue(file)!;
            if (!path.Exists)
            {
                throw new UsageException($"{path.FullName} does not exist: give the path of a CSV file.");
            }
            await using var input = path.OpenRead();
            var counts = await services.GetRequiredService<SubscriberCsv>().ImportAsync(input, path.Name, ConsentContext.Csv, ct);
            Console.WriteLine($"Imported {path.Name}: {counts.Added} added, {counts.Updated} updated, {counts.Unchanged} unchanged.");
            return ExitCodes.Success;
        });
        return import;
    }

    static Command ExportVerb(IServiceProvider services)
    {
        var output = new Option<FileInfo?>("--out") { Description = "Write to this file instead of standard output." };
        var export = new Command("export", "Write every subscriber as CSV (the format 'subscribers import' reads).") { output };
        export.SetAction(async (parsed, ct) =>
        {
            var csv = services.GetRequiredService<SubscriberCsv>();
            if (parsed.GetValue(output) is not { } file)
            {
                await csv.ExportAsync(Console.Out, ct);
                return ExitCodes.Success;
            }
            // Written beside the target and moved over it at the end: an interrupted export leaves no half file.
            var temporary = $"{file.FullName}.{Guid.NewGuid():N}.tmp";
            try
            {
                int count;
                await using (var stream = File.Create(temporary))
                {
                    count = await csv.ExportAsync(stream, ct);
                }
                File.Move(temporary, file.FullName, overwrite: true);
                Console.Error.WriteLine($"Exported {count} subscribers to {file.FullName}.");
            }
            finally
            {
                File.Delete(temporary);
            }
            return ExitCodes.Success;
        });
        return export;
    }

    static string DescribeTopics(Subscriber subscriber) =>
        subscriber.AllTopics ? "all topics" : subscriber.TopicIds.Count == 1 ? "1 topic" : $"{subscriber.TopicIds.Count} topics";
}
