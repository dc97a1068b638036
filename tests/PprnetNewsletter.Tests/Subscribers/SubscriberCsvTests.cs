using System.CommandLine;
using System.Text;
using PprnetNewsletter.Content;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Subscribers;

public class SubscriberCsvTests
{
    /// <summary>Runs a command line the way Main does, against the test's app.</summary>
    static async Task<string> WriteAsync(TestApp test, string name, string content)
    {
        var path = Path.Combine(test.Folder, name);
        await File.WriteAllTextAsync(path, content);
        return path;
    }

    /// <summary>Every subscriber as comparable text: address, name, status, topics.</summary>
    static async Task<List<string>> EveryoneAsync(TestApp test)
    {
        var catalog = test.Get<TopicCatalog>();
        var all = new List<string>();
        await foreach (var s in test.Get<ISubscriberStore>().StreamAllAsync())
        {
            var topics = new List<string>();
            foreach (var id in s.TopicIds)
            {
                topics.Add((await catalog.GetAsync(id)).Slug);
            }
            all.Add($"{s.Email}|{s.Name}|{s.Status}|{(s.AllTopics ? "ALL" : string.Join(",", topics))}");
        }
        return all;
    }

    static async Task<UsageException> ImportFailsAsync(TestApp test, string csv) =>
        await Assert.ThrowsAsync<UsageException>(() => test.Get<SubscriberCsv>().ImportAsync(
            new MemoryStream(Encoding.UTF8.GetBytes(csv)), "list.csv", ConsentContext.Csv));

    [Fact]
    public async Task Add_by_command_line_stores_a_confirmed_subscriber_with_topics_by_slug_or_name()
    {
        await using var test = await TestApp.CreateAsync();

        var exit = await test.RunCliAsync("subscribers", "add", "Ann@Example.ORG", "--name", "Ann Lee",
            "--topics", "empathy,Attendance, Attrition, and Drop-Out;TRAINING");

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal(["Ann@example.org|Ann Lee|confirmed|attendance-attrition-and-drop-out,empathy,training"], await EveryoneAsync(test));
        var store = test.Get<ISubscriberStore>();
        var consent = Assert.Single(await store.ConsentEventsAsync((await store.FindByEmailAsync("ann@example.org"))!.Id));
        Assert.Equal((ConsentEvent.Confirmed, ConsentSource.Admin), (consent.Event, consent.Source));
    }

    [Theory]
    [InlineData("subscribers", "add", "ann@example.org")]
    [InlineData("subscribers", "add", "ann@example.org", "--topics", "empathy", "--all-topics")]
    [InlineData("subscribers", "add", "ann@example.org", "--topics", "empathie,nonsense")]
    [InlineData("subscribers", "add", "\"Ann\" <ann@example.org>", "--all-topics")]
    [InlineData("subscribers", "add", "ann@example.org", "--all-topics", "--name", "Ann\r\nBcc: x@y.org")]
    [InlineData("subscribers", "import", "no-such-file.csv")]
    [InlineData("subscribers", "list", "--status", "gone")]
    [InlineData("subscribers")]
    public async Task Bad_command_lines_exit_2_and_store_nothing(params string[] args)
    {
        await using var test = await TestApp.CreateAsync();

        Assert.Equal(ExitCodes.BadInput, await test.RunCliAsync(args));

        Assert.Equal(0, await test.Get<ISubscriberStore>().CountAsync());
    }

    [Fact]
    public async Task An_unknown_topic_is_named_with_its_closest_matches()
    {
        await using var test = await TestApp.CreateAsync();

        var error = await Assert.ThrowsAsync<UsageException>(() => test.Get<TopicChoices>().ParseAsync("empathy,Anxity,depresion"));

        Assert.Contains("'Anxity' is not a topic (closest: 'Anxiety Disorders')", error.Message);
        Assert.Contains("'depresion' is not a topic (closest: 'Depression and Depressive Symptoms')", error.Message);
    }

    [Fact]
    public async Task Export_then_import_into_a_fresh_database_gives_the_same_subscribers_and_topics()
    {
        await using var source = await TestApp.CreateAsync();
        var store = source.Get<ISubscriberStore>();
        var choices = source.Get<TopicChoices>();
        await store.AddAsync(new NewSubscriber("ann@example.org", "Lee, Ann \"Dr\"", await choices.ParseAsync("empathy;attendance-attrition-and-drop-out")), ConsentContext.Admin);
        await store.AddAsync(new NewSubscriber("Bob@Example.org", "=HYPERLINK(\"x\")", TopicSelection.All), ConsentContext.Admin);
        await store.AddAsync(new NewSubscriber("-zoe@example.org", "Zoë Nguyễn", await choices.ParseAsync("trauma-and-or-ptsd")), ConsentContext.Admin);
        var paused = await store.AddAsync(new NewSubscriber("pat@example.org", "", TopicSelection.All), ConsentContext.Admin);
        await store.PauseAsync(paused.Id, ConsentContext.Admin);
        var gone = await store.AddAsync(new NewSubscriber("gone@example.org", "Gone", TopicSelection.All), ConsentContext.Admin);
        await store.UnsubscribeAsync(gone.Id, ConsentContext.Admin);
        var exported = Path.Combine(source.Folder, "export.csv");

        Assert.Equal(ExitCodes.Success, await source.RunCliAsync("subscribers", "export", "--out", exported));

        await using var target = await TestApp.CreateAsync();
        Assert.Equal(ExitCodes.Success, await target.RunCliAsync("subscribers", "import", exported));
        Assert.Equal(await EveryoneAsync(source), await EveryoneAsync(target));
        Assert.Equal(5, (await EveryoneAsync(target)).Count);
        // A spreadsheet opening the export sees text, not a formula.
        Assert.Contains("'=HYPERLINK", await File.ReadAllTextAsync(exported));
        Assert.Single(Directory.GetFiles(source.Folder, "export.csv*"));
    }

    [Fact]
    public async Task A_file_with_bad_rows_imports_nothing_and_reports_every_bad_row_with_its_line()
    {
        await using var test = await TestApp.CreateAsync();
        var csv = string.Join("\n",
            "email,name,topics",
            "good@example.org,Good,all",                                  // 2
            "\"\"\"Evil\"\" <a@b.org>\",Evil,all",                          // 3: bad address (a quoted field with quotes)
            "second@example.org,\"Multi",                                 // 4-5: a name on two lines
            "line\",all",
            "a@localhost,,all",                                           // 6
            "GOOD@Example.org,Again,empathy",                             // 7: duplicate of line 2
            "nice@example.org,,",                                         // 8: no topics
            "nice2@example.org,,Empathie;training",                       // 9: unknown topic
            "",
            "late@example.org,Late,training",                             // 11: good
            "x@y.org,Ann\u0007,all");                                     // 12: control character in name

        var error = await ImportFailsAsync(test, csv);

        var lines = error.Message.Split('\n');
        Assert.Contains("nothing was imported", lines[0]);
        Assert.Collection(lines.Skip(1),
            l => Assert.Contains("line 3: '\"Evil\" <a@b.org>' is not a usable email address", l),
            l => Assert.Contains("line 4: the name must be on one line", l),
            l => Assert.Contains("line 6: 'a@localhost' is not a usable email address: the domain 'localhost' has no dot", l),
            l => Assert.Contains("line 7: GOOD@example.org is already on line 2", l),
            l => Assert.Contains("line 8: topics: no topics given", l),
            l => Assert.Contains("line 9: topics: 'Empathie' is not a topic (closest: 'Empathy')", l),
            l => Assert.Contains("line 12: the name contains a control character", l));
        Assert.Equal(0, await test.Get<ISubscriberStore>().CountAsync());
    }

    [Theory]
    [InlineData("", "an empty file")]
    [InlineData("ann@example.org,Ann,all\n", "missing: email, name, topics")]
    [InlineData("email,topics\nann@example.org,all\n", "missing: name")]
    public async Task A_file_without_the_header_is_refused(string csv, string message)
    {
        await using var test = await TestApp.CreateAsync();

        var error = await ImportFailsAsync(test, csv);

        Assert.Contains("line 1 must be the header 'email,name,topics'", error.Message);
        Assert.Contains(message, error.Message);
        Assert.Equal(0, await test.Get<ISubscriberStore>().CountAsync());
    }

    [Fact]
    public async Task Existing_addresses_in_any_case_are_updated_and_counted_with_csv_consent_events()
    {
        await using var test = await TestApp.CreateAsync();
        var store = test.Get<ISubscriberStore>();
        var ann = await store.AddAsync(new NewSubscriber("A@Example.org", "Ann", TopicSelection.All), ConsentContext.Admin);
        await store.AddAsync(new NewSubscriber("same@example.org", "Same", TopicSelection.All), ConsentContext.Admin);
        var gone = await store.AddAsync(new NewSubscriber("gone@example.org", "Gone", TopicSelection.All), ConsentContext.Admin);
        await store.UnsubscribeAsync(gone.Id, ConsentContext.Admin);
        var path = await WriteAsync(test, "list.csv",
            "\uFEFFEmail, Name ,TOPICS\n a@example.org ,Ann Lee,empathy\nsame@example.org,Same,all\nnew@example.org,New,training\ngone@example.org,Gone,all\n");

        Assert.Equal(ExitCodes.Success, await test.RunCliAsync("subscribers", "import", path));

        Assert.Equal(
            ["A@example.org|Ann Lee|confirmed|empathy", "same@example.org|Same|confirmed|ALL", "gone@example.org|Gone|unsubscribed|ALL",
             "new@example.org|New|confirmed|training"],
            await EveryoneAsync(test));
        Assert.Equal((ConsentEvent.PreferencesChanged, ConsentSource.Csv), ((await store.ConsentEventsAsync(ann.Id))[^1] is var e ? (e.Event, e.Source) : default));
        var added = (await store.FindByEmailAsync("new@example.org"))!;
        Assert.Equal((ConsentEvent.Confirmed, ConsentSource.Csv), ((await store.ConsentEventsAsync(added.Id))[0] is var f ? (f.Event, f.Source) : default));

        var counts = await test.Get<SubscriberCsv>().ImportAsync(File.OpenRead(path), "list.csv", ConsentContext.Csv);
        Assert.Equal(new ImportCounts(0, 0, 4), counts);
    }

    [Fact]
    public async Task An_erased_address_in_a_file_is_reported_and_nothing_is_imported()
    {
        await using var test = await TestApp.CreateAsync();
        var store = test.Get<ISubscriberStore>();
        var erased = await store.AddAsync(new NewSubscriber("erased@example.org", "", TopicSelection.All), ConsentContext.Admin);
        await store.EraseAsync(erased.Id, ConsentContext.Admin);

        var error = await ImportFailsAsync(test, "email,name,topics\nok@example.org,,all\nErased@Example.org,,all\n");

        Assert.Contains("line 3: Erased@example.org unsubscribed, bounced or asked to be erased", error.Message);
        Assert.Equal(0, await store.CountAsync());
    }

    [Fact]
    public async Task A_badly_quoted_row_is_reported_with_its_line()
    {
        await using var test = await TestApp.CreateAsync();

        var error = await ImportFailsAsync(test, "email,name,topics\nok@example.org,\"Ann\" Lee,all\n");

        Assert.Contains("line 2: badly quoted or broken row", error.Message);
        Assert.Equal(0, await test.Get<ISubscriberStore>().CountAsync());
    }
}
