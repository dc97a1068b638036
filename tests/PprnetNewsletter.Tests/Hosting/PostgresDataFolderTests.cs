using PprnetNewsletter.Hosting;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Hosting;

/// <summary>With PostgreSQL there is no database file: what used to go beside it goes somewhere that exists.</summary>
public sealed class PostgresDataFolderTests
{
    [Fact]
    public async Task The_next_steps_name_the_postgres_database_not_a_sqlite_file()
    {
        var config = await PostgresServer.ConfigAsync();
        var database = new Npgsql.NpgsqlConnectionStringBuilder(config["Storage:ConnectionString"]).Database;
        await using var test = await TestApp.CreateAsync(config);

        var lines = NextSteps.For(test.App.Services, ["http://127.0.0.1:5080"]);

        var line = Assert.Single(lines, l => l.StartsWith("Database: ", StringComparison.Ordinal));
        Assert.Equal($"Database: PostgreSQL database \"{database}\" on 127.0.0.1:{(await PostgresServer.GetAsync()).Port}", line);
    }

    [Fact]
    public async Task Dkim_init_with_postgres_writes_the_key_into_the_data_folder_of_the_application_home()
    {
        await using var test = await TestApp.CreateAsync();
        var config = await PostgresServer.ConfigAsync();
        var selector = "t" + Guid.NewGuid().ToString("N")[..12];
        // The built binary's home is its own folder (it carries config/ and templates/), the test's output folder.
        var expected = Path.Combine(AppContext.BaseDirectory, "data", $"dkim-pprnet.example.org-{selector}.pem");
        try
        {
            var run = await PprnetProcess.RunAsync(test, config, "dkim", "init", "--domain", "pprnet.example.org", "--selector", selector);

            Assert.True(run.ExitCode == 0, run.Error);
            Assert.True(File.Exists(expected), run.Out);
            Assert.Contains($"PPRNET_Dkim__PrivateKeyPath={expected}", run.Out);
            Assert.Empty(Directory.GetFiles(test.Folder, "dkim-*"));
        }
        finally
        {
            File.Delete(expected);
        }
    }
}
