using Dapper;
using PprnetNewsletter.Content;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Content.ContentFixtures;

namespace PprnetNewsletter.Tests.Content;

public class SummaryImporterTests
{
    [Fact]
    public async Task The_sample_content_becomes_three_editions_in_the_blogs_order()
    {
        await using var test = await TestApp.CreateAsync();

        var result = await test.Get<SummaryImporter>().ImportAsync(SampleFolder);

        Assert.Equal("Imported 6 summaries (6 new, 0 updated) into 3 editions: 2022-12 (1), 2023-01 (3), 2023-03 (2)", result.ToString());
        var store = test.Get<IContentStore>();
        var editions = await store.ListEditionsAsync();
        Assert.Equal([("2023-03", 2), ("2023-01", 3), ("2022-12", 1)], editions.Select(e => (e.Month, e.SummaryCount)));
        Assert.All(editions, e => Assert.Equal(EditionStatus.Draft, e.Status));

        var march = (await store.GetEditionAsync("2023-03"))!;
        Assert.Equal(["capacity-to-mentalize", "negative-effects-of-psychotherapy"], march.Summaries.Select(s => s.Slug));
        Assert.Equal([1, 2], march.Summaries.Select(s => s.Position));
        var january = (await store.GetEditionAsync("2023-01"))!;
        Assert.Equal(["covid-19-mental-health-workers", "microaggressions-cultural-humility", "broaching-cultural-topics"],
            january.Summaries.Select(s => s.Slug));

        var mentalize = march.Summaries[0];
        Assert.Equal("Capacity to Mentalize Predicted Outcomes in Inpatient Therapy for Resistant Depression", mentalize.Title);
        Assert.StartsWith("Halstensen, K., Gjestad, R.", mentalize.Citation);
        Assert.Equal("Quantitative", mentalize.ResearchType);
        Assert.Equal(["Client Factors", "Depression and Depressive Symptoms", "Psychodynamic Therapy (PDT)", "Self-Reflection and Awareness"],
            mentalize.Topics.Select(t => t.Name));
        // The implications are split off: neither the heading nor their text is left in the body.
        Assert.DoesNotContain("Practice Implications", mentalize.BodyHtml);
        Assert.DoesNotContain("Even among patients", mentalize.BodyHtml);
        Assert.StartsWith("<p>Even among patients who are all severely", mentalize.ImplicationsHtml);
        Assert.StartsWith("Even among patients", mentalize.ImplicationsText);
        Assert.StartsWith("<p><em>Mentalizing</em> (also called reflective functioning)", mentalize.BodyHtml);
        Assert.StartsWith("Mentalizing (also called", mentalize.BodyText);
        Assert.Contains("\n- Mentalizing did not change on average", mentalize.BodyText);
    }

    [Fact]
    public async Task Reimporting_updates_by_slug_moves_between_months_and_replaces_topics()
    {
        await using var test = await TestApp.CreateAsync();
        var importer = test.Get<SummaryImporter>();
        var folder = test.WriteFolder(("study.md", Summary()), ("other.md", Summary(month: "month: 2023-06")));
        await importer.ImportAsync(folder);
        var before = (await test.Get<IContentStore>().GetEditionAsync("2023-05"))!.Summaries.Single();

        File.WriteAllText(Path.Combine(folder, "study.md"),
            Summary(title: "title: A Better Title", month: "month: 2023-06", topics: "topics: [Attachment]"));
        var result = await importer.ImportAsync(folder);

        Assert.Equal("Imported 2 summaries (0 new, 1 updated, 1 unchanged) into 1 edition: 2023-06 (2)", result.ToString());
        Assert.Equal(2, await test.CountAsync("summaries"));
        // The emptied draft edition is gone rather than left to be sent as an empty email.
        Assert.Null(await test.Get<IContentStore>().GetEditionAsync("2023-05"));
        var june = (await test.Get<IContentStore>().GetEditionAsync("2023-06"))!;
        var moved = june.Summaries.Single(s => s.Slug == "study");
        Assert.Equal(before.Id, moved.Id);
        Assert.Equal("A Better Title", moved.Title);
        Assert.Equal(["Attachment"], moved.Topics.Select(t => t.Name));
        Assert.Equal(["other", "study"], june.Summaries.Select(s => s.Slug));
    }

    [Fact]
    public async Task Reimporting_a_subfolder_finds_its_summaries_unchanged()
    {
        await using var test = await TestApp.CreateAsync();
        var importer = test.Get<SummaryImporter>();
        await importer.ImportAsync(SampleFolder);
        var before = await test.SnapshotAsync();

        var result = await importer.ImportAsync(Path.Combine(SampleFolder, "2023-03"));

        Assert.Equal("Imported 2 summaries (0 new, 0 updated, 2 unchanged) into 1 edition: 2023-03 (2)", result.ToString());
        Assert.Equal(before, await test.SnapshotAsync());
    }

    [Fact]
    public async Task Summaries_with_an_order_come_first_then_the_rest_by_file_name()
    {
        await using var test = await TestApp.CreateAsync();
        var folder = test.WriteFolder(
            ("b.md", Summary()),
            ("a.md", Summary()),
            ("z.md", Summary(extra: "order: 2")),
            ("y.md", Summary(extra: "order: 1")));

        await test.Get<SummaryImporter>().ImportAsync(folder);

        var may = (await test.Get<IContentStore>().GetEditionAsync("2023-05"))!;
        Assert.Equal(["y", "z", "a", "b"], may.Summaries.Select(s => s.Slug));
        Assert.Equal([1, 2, 3, 4], may.Summaries.Select(s => s.Position));
    }

    [Fact]
    public async Task A_single_file_imports_and_its_slug_can_differ_from_its_name()
    {
        await using var test = await TestApp.CreateAsync();
        var folder = test.WriteFolder(("Draft Notes.md", Summary(extra: "slug: notes\ncitation: \"Doe, J. (2024). A study. Journal, 1(1), 1–2.\"\nresearch_type: Qualitative")));

        var result = await test.Get<SummaryImporter>().ImportAsync(Path.Combine(folder, "Draft Notes.md"));

        Assert.Equal(1, result.New);
        var summary = (await test.Get<IContentStore>().GetEditionAsync("2023-05"))!.Summaries.Single();
        Assert.Equal("notes", summary.Slug);
        Assert.Equal("Doe, J. (2024). A study. Journal, 1(1), 1–2.", summary.Citation);
        Assert.Equal("Qualitative", summary.ResearchType);
        Assert.Equal(["Empathy", "Training"], summary.Topics.Select(t => t.Name));
    }

    [Fact]
    public async Task A_sent_edition_keeps_its_content_but_an_unchanged_reimport_is_fine()
    {
        await using var test = await TestApp.CreateAsync();
        var importer = test.Get<SummaryImporter>();
        var folder = test.WriteFolder(("study.md", Summary()));
        await importer.ImportAsync(folder);
        await using (var connection = await test.Get<Db>().OpenAsync())
        {
            await connection.ExecuteAsync("UPDATE editions SET status = 'sent' WHERE month = '2023-05'");
        }

        Assert.Equal(1, (await importer.ImportAsync(folder)).Unchanged);

        var snapshot = await test.SnapshotAsync();
        File.WriteAllText(Path.Combine(folder, "study.md"), Summary(title: "title: Changed After Sending"));
        File.WriteAllText(Path.Combine(folder, "late.md"), Summary());
        var e = await Assert.ThrowsAsync<UsageException>(() => importer.ImportAsync(folder));

        Assert.Contains("study.md: summary 'study' is in the 2023-05 edition, which is sent", e.Message);
        Assert.Contains("late.md: the 2023-05 edition is sent: no summary can be added to it", e.Message);
        Assert.Equal(snapshot, await test.SnapshotAsync());
    }

    [Fact]
    public async Task A_path_that_is_not_there_or_has_no_markdown_is_bad_input()
    {
        await using var test = await TestApp.CreateAsync();
        var importer = test.Get<SummaryImporter>();

        var missing = await Assert.ThrowsAsync<UsageException>(() => importer.ImportAsync(Path.Combine(test.Folder, "nowhere")));
        var empty = await Assert.ThrowsAsync<UsageException>(() => importer.ImportAsync(test.WriteFolder(("notes.txt", "not markdown"))));

        Assert.Contains("There is no file or folder at", missing.Message);
        Assert.Contains("no Markdown files (*.md)", empty.Message);
    }
}
