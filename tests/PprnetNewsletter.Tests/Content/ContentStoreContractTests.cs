using System.Net;
using PprnetNewsletter.Content;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Content;

/// <summary>The content store's behaviour, the same on SQLite and on PostgreSQL.</summary>
public sealed class ContentStoreContractTests
{
    static SummaryDraft Draft(IReadOnlyList<Topic> topics, string slug, string month, int? order, string file, params string[] topicSlugs) =>
        new(slug, month, order, $"Title of {slug}", $"Citation of {slug}", "Quantitative",
            new RenderedMarkdown($"Body of {slug}", $"<p>Body of {slug}</p>", $"Body of {slug}"),
            new RenderedMarkdown("Do this.", "<p>Do this.</p>", "Do this."),
            topicSlugs.Select(s => topics.Single(t => t.Slug == s).Id).ToList(), file) { Link = $"https://doi.org/10.1/{slug}" };

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task Imported_summaries_read_back_as_an_edition_in_order_with_their_topics(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var store = test.Get<IContentStore>();
        var topics = test.Get<TopicCatalog>();
        var all = await topics.AllAsync();
        Assert.Equal(36, all.Count);

        await using (var session = await store.BeginImportAsync())
        {
            Assert.Empty(session.Summaries);
            await session.SaveAsync([
                Draft(all, "unordered-b", "2023-05", null, "b.md", "training"),
                Draft(all, "second", "2023-05", 2, "z.md"),
                Draft(all, "first", "2023-05", 1, "y.md", "training", "empathy"),
                Draft(all, "unordered-a", "2023-05", null, "a.md", "anxiety-disorders"),
            ]);
            await session.CommitAsync();
        }

        var edition = (await store.GetEditionAsync("2023-05"))!;
        Assert.Equal(("2023-05", EditionStatus.Draft, null), (edition.Month, edition.Status, edition.SentAt));
        Assert.Equal(["first", "second", "unordered-a", "unordered-b"], edition.Summaries.Select(s => s.Slug));
        Assert.Equal([1, 2, 3, 4], edition.Summaries.Select(s => s.Position));
        var first = edition.Summaries[0];
        Assert.Equal(["Empathy", "Training"], first.Topics.Select(t => t.Name));
        Assert.Equal(("Title of first", "Citation of first", "Quantitative", "<p>Body of first</p>", "Do this.", "https://doi.org/10.1/first"),
            (first.Title, first.Citation, first.ResearchType, first.BodyHtml, first.ImplicationsText, first.Link));
        Assert.Empty(edition.Summaries[1].Topics);
        Assert.Equal(4, await store.CountSummariesAsync());
        Assert.Null(await store.GetEditionAsync("2023-06"));

        // Re-importing by slug updates; a summary moved to another month leaves no empty draft behind.
        await using (var session = await store.BeginImportAsync())
        {
            Assert.Equal(["Empathy", "Training"], (await Task.WhenAll(session.Summaries["first"].Content.TopicIds.Select(topics.GetAsync)))
                .Select(t => t.Name).Order(StringComparer.Ordinal));
            Assert.Equal(EditionStatus.Draft, session.EditionStatuses["2023-05"]);
            await session.SaveAsync([
                Draft(all, "first", "2023-06", null, "y.md", "empathy"),
                Draft(all, "second", "2023-06", null, "z.md"),
                Draft(all, "unordered-a", "2023-06", null, "a.md"),
                Draft(all, "unordered-b", "2023-06", null, "b.md"),
            ]);
            await session.CommitAsync();
        }
        Assert.Null(await store.GetEditionAsync("2023-05"));
        var june = (await store.GetEditionAsync("2023-06"))!;
        Assert.Equal(["unordered-a", "unordered-b", "first", "second"], june.Summaries.Select(s => s.Slug));
        Assert.Equal(["Empathy"], june.Summaries[2].Topics.Select(t => t.Name));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task An_import_not_committed_writes_nothing(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var store = test.Get<IContentStore>();
        var topics = test.Get<TopicCatalog>();
        var all = await topics.AllAsync();

        await using (var session = await store.BeginImportAsync())
        {
            await session.SaveAsync([Draft(all, "kept-out", "2023-07", null, "k.md", "training")]);
        }

        Assert.Equal(0, await store.CountSummariesAsync());
        Assert.Empty(await store.ListEditionsAsync());
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task An_import_waits_for_one_under_way_and_then_sees_what_it_wrote(StorageProvider engine)
    {
        await using var test = await Engines.CreateAppAsync(engine);
        var store = test.Get<IContentStore>();
        var topics = test.Get<TopicCatalog>();
        var all = await topics.AllAsync();

        var first = await store.BeginImportAsync();
        var second = Task.Run(async () =>
        {
            await using var session = await store.BeginImportAsync();
            return session.Summaries.Keys.ToList();
        });
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(second.IsCompleted, "a second import began while the first held the content");

        await first.SaveAsync([Draft(all, "written-first", "2023-08", null, "w.md", "training")]);
        await first.CommitAsync();
        await first.DisposeAsync();

        Assert.Equal(["written-first"], await second.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Theory, MemberData(nameof(Engines.Both), MemberType = typeof(Engines))]
    public async Task The_archive_lists_sent_editions_newest_first_and_shows_one(StorageProvider engine)
    {
        await using var test = await Engines.StartWebAsync(engine);
        await test.Get<SummaryImporter>().ImportAsync(ContentFixtures.SampleFolder);
        var sentAt = new DateTimeOffset(2023, 3, 1, 14, 0, 0, TimeSpan.Zero);
        // Sending is the delivery feature's: here the editions are marked sent as it would.
        await EngineStores.ExecuteAsync(test, "UPDATE editions SET status = 'sent', sent_at = @sentAt WHERE month IN ('2022-12', '2023-03')", new { sentAt });

        var editions = await test.Get<IContentStore>().ListEditionsAsync();
        Assert.Equal([("2023-03", "sent", 2L), ("2023-01", "draft", 3L), ("2022-12", "sent", 1L)],
            editions.Select(e => (e.Month, e.Status, e.SummaryCount)));
        Assert.Equal(sentAt, editions[0].SentAt);
        Assert.Equal(sentAt, (await test.Get<IContentStore>().GetEditionAsync("2023-03"))!.SentAt);

        using var client = test.CreateClient();
        var index = await client.GetStringAsync("archive");
        Assert.True(index.IndexOf("/archive/2023-03", StringComparison.Ordinal) < index.IndexOf("/archive/2022-12", StringComparison.Ordinal));
        Assert.DoesNotContain("/archive/2023-01", index);
        var march = await client.GetStringAsync("archive/2023-03");
        Assert.Contains("id=\"capacity-to-mentalize\"", march);
        Assert.Contains("Practice Implications", march);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("archive/2023-01")).StatusCode);
    }
}
