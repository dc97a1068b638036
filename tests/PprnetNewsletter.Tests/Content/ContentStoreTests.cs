using Dapper;
using PprnetNewsletter.Content;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Content;

public class ContentStoreTests
{
    [Fact]
    public async Task An_edition_reads_back_with_its_summaries_in_order_and_their_topics()
    {
        await using var test = await TestApp.CreateAsync();
        await using (var connection = await test.Get<Db>().OpenAsync())
        {
            await connection.ExecuteAsync("""
                INSERT INTO editions (id, month, created_at) VALUES (1, '2023-03', '2023-03-01T00:00:00.0000000Z');
                INSERT INTO summaries (id, edition_id, slug, position, title, body_markdown, body_html, body_text,
                    implications_markdown, implications_html, implications_text, imported_at, updated_at)
                VALUES (10, 1, 'second', 2, 'Second', 'b', '<p>b</p>', 'b', 'i', '<p>i</p>', 'i', 'x', 'x'),
                       (11, 1, 'first', 1, 'First', 'b', '<p>b</p>', 'b', 'i', '<p>i</p>', 'i', 'x', 'x');
                INSERT INTO summary_topics (summary_id, topic_id)
                SELECT 11, id FROM topics WHERE slug IN ('training', 'empathy');
                """);
        }

        var edition = await test.Get<IContentStore>().GetEditionAsync("2023-03");

        Assert.NotNull(edition);
        Assert.Equal("March 2023", edition.MonthName);
        Assert.Equal(["first", "second"], edition.Summaries.Select(s => s.Slug));
        Assert.Equal(["Empathy", "Training"], edition.Summaries[0].Topics.Select(t => t.Name));
        Assert.Empty(edition.Summaries[1].Topics);
        Assert.Null(await test.Get<IContentStore>().GetEditionAsync("2023-04"));
    }

    [Fact]
    public async Task A_subscriber_reads_back_by_email_in_any_case_with_topics()
    {
        await using var test = await TestApp.CreateAsync();
        await using (var connection = await test.Get<Db>().OpenAsync())
        {
            await connection.ExecuteAsync("""
                INSERT INTO subscribers (id, email, name, status, all_topics, created_at, updated_at, confirmed_at)
                VALUES (5, 'Ann@example.org', 'Ann', 'confirmed', 0, '2023-01-01T00:00:00.0000000Z', '2023-01-02T00:00:00.0000000Z', '2023-01-02T00:00:00.0000000Z');
                INSERT INTO subscriber_topics (subscriber_id, topic_id) SELECT 5, id FROM topics WHERE slug = 'training';
                """);
        }

        var found = await test.Get<ISubscriberStore>().FindByEmailAsync(" ann@EXAMPLE.org ");

        Assert.NotNull(found);
        Assert.Equal(5, found.Id);
        Assert.False(found.AllTopics);
        Assert.Single(found.TopicIds);
        Assert.Equal(new DateTimeOffset(2023, 1, 2, 0, 0, 0, TimeSpan.Zero), found.ConfirmedAt);
    }
}
