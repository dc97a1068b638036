using System.Net;
using System.Text.RegularExpressions;

namespace PprnetNewsletter.Tests.Support;

/// <summary>
/// A visitor of the started site: keeps its cookies like a browser, and posts forms with the antiforgery token
/// of the page it last loaded. Does not follow redirects, so tests see them.
/// </summary>
public sealed partial class WebSession : IDisposable
{
    readonly HttpClient _client;
    string? _antiforgery;

    public WebSession(TestApp test, string userAgent = "PprnetTests/1.0")
    {
        _client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() })
        {
            BaseAddress = test.BaseAddress,
        };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd(userAgent);
    }

    public HttpClient Client => _client;

    /// <summary>The antiforgery token of the last page loaded (for forms a test builds itself, such as uploads).</summary>
    public string? Antiforgery => _antiforgery;

    /// <summary>Loads a page and remembers its antiforgery token (if it has a form).</summary>
    public async Task<(HttpStatusCode Status, string Html)> GetAsync(string path)
    {
        var response = await _client.GetAsync(path.TrimStart('/'));
        var html = await response.Content.ReadAsStringAsync();
        if (AntiforgeryField().Match(html) is { Success: true } match)
        {
            _antiforgery = WebUtility.HtmlDecode(match.Groups["value"].Value);
        }
        return (response.StatusCode, html);
    }

    /// <summary>Posts a form as a browser would, with the antiforgery token of the last page loaded.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string path, IEnumerable<KeyValuePair<string, string>> fields, bool withAntiforgery = true)
    {
        var all = fields.ToList();
        if (withAntiforgery && _antiforgery is not null)
        {
            all.Add(new("__antiforgery", _antiforgery));
        }
        return await _client.PostAsync(path.TrimStart('/'), new FormUrlEncodedContent(all));
    }

    public static IEnumerable<KeyValuePair<string, string>> Fields(params (string Name, string Value)[] fields) =>
        fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value));

    public void Dispose() => _client.Dispose();

    [GeneratedRegex("name=\"__antiforgery\" value=\"(?<value>[^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
