using Dapper;
using PprnetNewsletter.Storage;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Content;

/// <summary>Summary files written for a test, the repository's sample summaries, and a view of the stored content.</summary>
static class ContentFixtures
{
    /// <summary>The repository's content/ folder: found by walking up from the test binaries to the solution.</summary>
    public static string SampleFolder { get; } = FindSampleFolder();

    static string FindSampleFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PprnetNewsletter.sln")) && Directory.Exists(Path.Combine(dir.FullName, "content")))
            {
                return Path.Combine(dir.FullName, "content");
            }
        }
        throw new InvalidOperationException($"No content/ folder next to PprnetNewsletter.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>A valid summary file's text; each part can be replaced to make it invalid.</summary>
    public static string Summary(
        string title = "title: A Study of Something",
        string month = "month: 2023-05",
        string topics = "topics: [Empathy, training]",
        string extra = "",
        string body = "The *summary* of the study.\n\n## Practice Implications\nWhat clinicians can do.") =>
        $"---\n{string.Join('\n', new[] { title, month, topics, extra }.Where(l => l.Length > 0))}\n---\n{body}\n";

    /// <summary>Writes <paramref name="files"/> (relative name → text) into a new folder under the test's folder.</summary>
    public static string WriteFolder(this TestApp test, params (string Name, string Text)[] files)
    {
        var folder = Path.Combine(test.Folder, "import-" + Guid.NewGuid().ToString("N")[..8]);
        foreach (var (name, text) in files)
        {
            var path = Path.Combine(folder, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
        }
        return folder;
    }

    /// <summary>Every row of the content tables as text, to show that a refused import changed nothing.</summary>
    public static async Task<string> SnapshotAsync(this TestApp test)
    {
        await using var connection = await test.Get<Db>().OpenAsync();
        var lines = new List<string>();
        foreach (var table in new[] { "editions ORDER BY id", "summaries ORDER BY id", "summary_topics ORDER BY summary_id, topic_id" })
        {
            foreach (IDictionary<string, object?> row in await connection.QueryAsync($"SELECT * FROM {table}"))
            {
                lines.Add(table + ": " + string.Join(" | ", row.Select(c => $"{c.Key}={c.Value}")));
            }
        }
        return string.Join('\n', lines);
    }

    public static async Task<long> CountAsync(this TestApp test, string table)
    {
        await using var connection = await test.Get<Db>().OpenAsync();
        return await connection.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table}");
    }
}
