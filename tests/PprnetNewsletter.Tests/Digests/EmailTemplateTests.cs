using System.CommandLine;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Digests;

public class EmailTemplateTests
{
    /// <summary>A copy of the real templates in a folder of the test's own, with one file changed.</summary>
    static string CopyTemplates(TestApp test, string file, Func<string, string> change)
    {
        var folder = Path.Combine(test.Folder, "templates");
        Directory.CreateDirectory(folder);
        foreach (var source in Directory.GetFiles(test.Get<EmailTemplates>().Folder, "*.cshtml"))
        {
            File.Copy(source, Path.Combine(folder, Path.GetFileName(source)));
        }
        var path = Path.Combine(folder, file);
        File.WriteAllText(path, change(File.ReadAllText(path)));
        return folder;
    }

    static async Task<TestApp> AppWithTemplatesAsync(string file, Func<string, string> change, bool serve = false)
    {
        await using var original = await TestApp.CreateAsync();
        var folder = CopyTemplates(original, file, change);
        var copy = Path.Combine(Path.GetTempPath(), "pprnet-tests", Guid.NewGuid().ToString("N"));
        Directory.Move(folder, copy); // the original app's folder goes when it is disposed
        return await TestApp.CreateAsync(new Dictionary<string, string?>() { ["Digest:TemplatesPath"] = copy }, serve);
    }

    static string InsertLine(string source, int lineNumber, string line)
    {
        var lines = source.Split('\n').ToList();
        lines.Insert(lineNumber - 1, line);
        return string.Join('\n', lines);
    }

    [Fact]
    public async Task The_real_templates_compile()
    {
        await using var test = await TestApp.CreateAsync();
        await test.Get<EmailTemplates>().CompileAllAsync();
    }

    [Fact]
    public async Task A_template_that_does_not_compile_is_reported_with_its_file_and_line()
    {
        await using var test = await AppWithTemplatesAsync("Digest.cshtml", s => InsertLine(s, 7, "<p>@Model.NoSuchProperty</p>"));

        var error = await Assert.ThrowsAsync<TemplateException>(() => test.Get<EmailTemplates>().CompileAllAsync());

        Assert.Contains("Digest.cshtml, line 7:", error.Message);
        Assert.Contains("NoSuchProperty", error.Message);
    }

    [Fact]
    public async Task A_razor_syntax_error_is_reported_with_its_file_and_line()
    {
        await using var test = await AppWithTemplatesAsync("Confirmation.txt.cshtml", s => InsertLine(s, 4, "@{ var unclosed = 1;"));

        var error = await Assert.ThrowsAsync<TemplateException>(() => test.Get<EmailTemplates>().CompileAllAsync());

        Assert.Contains("Confirmation.txt.cshtml, line 4", error.Message);
    }

    [Fact]
    public async Task A_broken_template_stops_the_service_from_starting()
    {
        await using var test = await AppWithTemplatesAsync("_Layout.cshtml", s => InsertLine(s, 5, "@Model.Nothing()"), serve: true);

        var error = await Assert.ThrowsAsync<TemplateException>(() => test.App.StartAsync());

        Assert.Contains("_Layout.cshtml, line 5", error.Message);
    }

    [Fact]
    public async Task A_broken_template_fails_the_preview_verb_without_writing_anything()
    {
        await using var test = await AppWithTemplatesAsync("Digest.txt.cshtml", s => InsertLine(s, 6, "@Model.Missing"));
        await DigestTestData.SeedAsync(test);
        var folder = Path.Combine(test.Folder, "preview");

        var exit = await test.RunCliAsync(["digest", "preview", DigestTestData.Month, "--email", "ann.smith@example.org", "--out", folder]);

        Assert.Equal(ExitCodes.Failure, exit);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public async Task A_missing_template_is_named()
    {
        await using var test = await AppWithTemplatesAsync("ManagePreferences.txt.cshtml", s => s);
        File.Delete(Path.Combine(test.Get<EmailTemplates>().Folder, "ManagePreferences.txt.cshtml"));

        var error = await Assert.ThrowsAsync<TemplateException>(() => test.Get<EmailTemplates>().CompileAllAsync());

        Assert.Contains("ManagePreferences.txt.cshtml", error.Message);
    }
}
