using System.CommandLine;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Subscribers;

/// <summary>Tests that read the console: they run alone, so no other test writes into what they capture.</summary>
[CollectionDefinition(nameof(ConsoleCapture), DisableParallelization = true)]
public sealed class ConsoleCapture;

[Collection(nameof(ConsoleCapture))]
public class SubscriberListVerbTests
{
    static async Task<(int Exit, string Output)> RunAsync(TestApp test, params string[] args)
    {
        var original = Console.Out;
        using var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            var exit = await test.RunCliAsync(args);
            return (exit, output.ToString());
        }
        finally
        {
            Console.SetOut(original);
        }
    }

    [Fact]
    public async Task List_shows_address_name_status_and_topic_count_or_all_with_filters()
    {
        await using var test = await TestApp.CreateAsync();
        var store = test.Get<ISubscriberStore>();
        await store.AddAsync(new NewSubscriber("ann@example.org", "Ann Lee", await test.Get<TopicChoices>().ParseAsync("empathy;training")), ConsentContext.Admin);
        var bob = await store.AddAsync(new NewSubscriber("bob@example.org", "Bob", TopicSelection.All), ConsentContext.Admin);
        await store.PauseAsync(bob.Id, ConsentContext.Admin);

        var (exit, output) = await RunAsync(test, "subscribers", "list");

        Assert.Equal(ExitCodes.Success, exit);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd()).ToList();
        Assert.Matches(@"^EMAIL\s+NAME\s+STATUS\s+TOPICS$", lines[0]);
        Assert.Matches(@"^ann@example\.org\s+Ann Lee\s+confirmed\s+2$", lines[1]);
        Assert.Matches(@"^bob@example\.org\s+Bob\s+paused\s+all$", lines[2]);
        Assert.Equal("2 subscribers", lines[3]);

        (exit, output) = await RunAsync(test, "subscribers", "list", "--status", "paused");
        Assert.Equal(ExitCodes.Success, exit);
        Assert.DoesNotContain("ann@example.org", output);
        Assert.Contains("1 subscriber", output);

        (_, output) = await RunAsync(test, "subscribers", "export");
        Assert.Equal("email,name,topics,status\nann@example.org,Ann Lee,empathy;training,confirmed\nbob@example.org,Bob,all,paused\n", output);
    }
}
