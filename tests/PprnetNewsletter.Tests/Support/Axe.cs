using Deque.AxeCore.Commons;
using Newtonsoft.Json.Linq;

namespace PprnetNewsletter.Tests.Support;

/// <summary>
/// axe-core (the copy bundled with Deque.AxeCore.Commons) run in the page the browser shows, limited to the
/// WCAG 2.0 and 2.1 level A and AA rules. The script is injected through WebDriver, which the pages'
/// Content-Security-Policy (no scripts) does not govern.
/// </summary>
public static class Axe
{
    static readonly string Script = new BundledAxeScriptProvider().GetScript();

    const string Run = """
        var done = arguments[arguments.length - 1];
        axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
           .then(function (r) { done(JSON.stringify(r)); }, function (e) { done(JSON.stringify({ error: String(e) })); });
        """;

    /// <summary>The violations of the page on screen, one line each (rule, impact, elements); empty when there are none.</summary>
    public static IReadOnlyList<string> Violations(Browser browser)
    {
        browser.Driver.ExecuteScript(Script);
        browser.Driver.Manage().Timeouts().AsynchronousJavaScript = TimeSpan.FromSeconds(60);
        var json = browser.Driver.ExecuteAsyncScript(Run) as string ?? throw new InvalidOperationException("axe-core did not answer");
        if (json.StartsWith("{\"error\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"axe-core failed on {browser.Driver.Url}: {json}");
        }
        var result = new AxeResult(JObject.Parse(json));
        return result.Violations
            .Select(v => $"{v.Id} ({v.Impact}): {v.Help} — {string.Join(", ", v.Nodes.Select(n => n.Target?.ToString()))}")
            .ToList();
    }

    /// <summary>Fails the test, naming every violation, unless the page on screen has none.</summary>
    public static void AssertNoViolations(Browser browser, string what)
    {
        var violations = Violations(browser);
        Assert.True(violations.Count == 0, $"{what} ({browser.Driver.Url}) has {violations.Count} WCAG 2.1 AA violation(s):\n  "
            + string.Join("\n  ", violations));
    }
}
