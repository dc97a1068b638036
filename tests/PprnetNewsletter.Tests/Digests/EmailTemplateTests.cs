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

    static Dictionary<string, byte[]> CacheEntries(TestApp test) =>
        Directory.GetFiles(test.Get<CompiledTemplateCache>().Folder).ToDictionary(path => Path.GetFileName(path), File.ReadAllBytes);

    static async Task<(string Html, string Text)> PreviewAsync(TestApp test, string name)
    {
        var folder = Path.Combine(test.Folder, name);
        var exit = await test.RunCliAsync("digest", "preview", DigestTestData.Month, "--email", "ann.smith@example.org", "--out", folder);
        Assert.Equal(ExitCodes.Success, exit);
        var stem = Path.Combine(folder, "ann.smith@example.org");
        return (await File.ReadAllTextAsync(stem + ".html"), await File.ReadAllTextAsync(stem + ".txt"));
    }

    [Fact]
    public async Task A_second_process_renders_the_same_emails_from_the_cache_without_loading_the_compiler()
    {
        await using var test = await TestApp.CreateAsync();
        await DigestTestData.SeedAsync(test);
        var config = new Dictionary<string, string?> { ["Digest:CompiledTemplatesPath"] = Path.Combine(test.Folder, "cache") };
        string[] Preview(string folder) =>
            ["digest", "preview", DigestTestData.Month, "--email", "ann.smith@example.org", "--out", Path.Combine(test.Folder, folder)];

        var first = await LoadedAssemblies.RunAsync(test, config, Preview("first"));
        var cached = Directory.GetFiles(Path.Combine(test.Folder, "cache")).ToDictionary(path => path, File.ReadAllBytes);
        var second = await LoadedAssemblies.RunAsync(test, config, Preview("second"));

        Assert.True(first.Run.ExitCode == ExitCodes.Success, first.Run.Error);
        Assert.True(second.Run.ExitCode == ExitCodes.Success, second.Run.Error);
        Assert.Contains("Microsoft.CodeAnalysis.CSharp", first.Assemblies); // the first process compiled: the probe sees Roslyn
        Assert.DoesNotContain("Microsoft.CodeAnalysis.CSharp", second.Assemblies);     // Roslyn's compiler
        Assert.DoesNotContain("Microsoft.AspNetCore.Razor.Language", second.Assemblies); // the Razor code generator
        Assert.Equal(2, cached.Count); // the HTML and the text templates
        Assert.All(cached, entry => Assert.Equal(entry.Value, File.ReadAllBytes(entry.Key)));
        foreach (var extension in new[] { ".html", ".txt" })
        {
            var file = "ann.smith@example.org" + extension;
            Assert.Equal(File.ReadAllText(Path.Combine(test.Folder, "first", file)), File.ReadAllText(Path.Combine(test.Folder, "second", file)));
        }
    }

    [Fact]
    public async Task An_edited_template_misses_the_cache_and_the_edit_takes_effect()
    {
        await using var test = await AppWithTemplatesAsync("Digest.cshtml", s => s);
        await DigestTestData.SeedAsync(test);
        var folder = test.Get<EmailTemplates>().Folder;
        var before = await PreviewAsync(test, "before");
        var entries = CacheEntries(test);

        var path = Path.Combine(folder, "Digest.cshtml");
        File.WriteAllText(path, InsertLine(File.ReadAllText(path), 8, "<p>Edited after the first compile.</p>"));
        EmailTemplates.ForgetCompiled(folder);
        var after = await PreviewAsync(test, "after");

        Assert.DoesNotContain("Edited after the first compile.", before.Html);
        Assert.Contains("Edited after the first compile.", after.Html);
        Assert.Equal(before.Text, after.Text);
        var now = CacheEntries(test);
        Assert.Equal(2, now.Count); // new entries replace the old ones rather than pile up
        Assert.Empty(now.Keys.Intersect(entries.Keys)); // every template's content is in both entries' keys
    }

    [Fact]
    public async Task A_damaged_cache_entry_is_compiled_again_and_replaced()
    {
        await using var test = await AppWithTemplatesAsync("Digest.cshtml", s => s);
        await DigestTestData.SeedAsync(test);
        var templates = test.Get<EmailTemplates>();
        var expected = await PreviewAsync(test, "sound");
        var cache = test.Get<CompiledTemplateCache>().Folder;
        var damaged = new Dictionary<string, byte[]>();
        foreach (var (name, bytes) in CacheEntries(test))
        {
            damaged[name] = bytes[..(bytes.Length / 2)];
            File.WriteAllBytes(Path.Combine(cache, name), damaged[name]);
        }

        EmailTemplates.ForgetCompiled(templates.Folder);
        var recompiled = await PreviewAsync(test, "recompiled");
        var replaced = CacheEntries(test);
        EmailTemplates.ForgetCompiled(templates.Folder);
        await templates.CompileAllAsync();

        Assert.Equal(expected, recompiled);
        Assert.Equal(damaged.Keys.Order(), replaced.Keys.Order());
        Assert.All(replaced, entry => Assert.True(entry.Value.Length > 2 * damaged[entry.Key].Length - 2));
        // The replacement is sound: the next process loads it rather than compiling and writing it again.
        Assert.Equal(replaced, CacheEntries(test));
    }
}

