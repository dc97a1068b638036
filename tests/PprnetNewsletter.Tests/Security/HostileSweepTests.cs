using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Security;

/// <summary>
/// One application for the whole sweep (the requests are refused, so they share nothing that matters): a subscriber,
/// the sample editions, an admin key, a browser-like session with its antiforgery cookie and token, and rate limits
/// raised so that the sweep measures the checks, not the brakes.
/// </summary>
public sealed partial class HostileSweepFixture : IAsyncLifetime
{
    public TestApp Test { get; private set; } = null!;

    public WebSession Visitor { get; private set; } = null!;

    public string AdminKey { get; } = AdminClient.NewKey();

    public Dictionary<string, string> Placeholders { get; } = new(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        Test = await TestApp.StartWebAsync(new Dictionary<string, string?>
        {
            ["Admin:ApiKey"] = AdminKey,
            ["Admin:FailedAttemptsPerMinute"] = "10000",
            ["Web:SubscribeLimitPerMinute"] = "10000",
            ["Web:TokenLimitPerMinute"] = "100000",
        });
        await SampleContent.ImportAsync(Test);
        var ann = await Test.Get<ISubscriberStore>().AddAsync(
            new NewSubscriber("ann@example.org", "Ann", TopicSelection.All), ConsentContext.Admin);
        var links = Test.Get<LinkTokens>();
        Visitor = new WebSession(Test);
        var (_, html) = await Visitor.GetAsync("/");
        Placeholders["{pref}"] = links.Create(ann.Id, LinkPurpose.Preferences);
        Placeholders["{unsub}"] = links.Create(ann.Id, LinkPurpose.Unsubscribe);
        Placeholders["{id}"] = ann.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Placeholders["{af}"] = Uri.EscapeDataString(WebUtility.HtmlDecode(Antiforgery().Match(html).Groups[1].Value));
    }

    public string Fill(string text) => Placeholders.Aggregate(text, (current, p) => current.Replace(p.Key, p.Value, StringComparison.Ordinal));

    public async Task DisposeAsync()
    {
        Visitor.Dispose();
        await Test.DisposeAsync();
    }

    [GeneratedRegex("name=\"__antiforgery\" value=\"([^\"]+)\"")]
    private static partial Regex Antiforgery();
}

/// <summary>
/// The hostile-input sweep: every public page and admin endpoint, sent what an attacker would send. Whatever the
/// request, the answer is never a 5xx, always carries the security headers, and a refused request (4xx) leaves
/// every stored row as it was (subscribers, topics, consent events, suppressions, tokens, content, deliveries).
/// </summary>
public class HostileSweepTests(HostileSweepFixture fixture) : IClassFixture<HostileSweepFixture>
{
    /// <summary>One hostile request: body "hex:..." is raw bytes; placeholders {pref}, {unsub}, {id}, {af} are filled in.</summary>
    public sealed record Attack(string Method, string Path, string? ContentType = null, string? Body = null, bool Admin = false,
        IReadOnlyDictionary<string, string>? Headers = null)
    {
        /// <summary>
        /// A NUL in the path is refused by Kestrel's request parser (400) before the application sees the request,
        /// so that answer, written by the server alone, has none of the application's headers.
        /// </summary>
        public bool RefusedByServer => Path.Split('?')[0].Contains("%00", StringComparison.Ordinal);
    }

    const string Form = "application/x-www-form-urlencoded";
    const string Json = "application/json";

    static readonly string[] PublicForms = ["/subscribe", "/confirm", "/preferences/{pref}", "/preferences/{pref}/pause",
        "/preferences/{pref}/resume", "/preferences/{pref}/unsubscribe", "/preferences/{pref}/erase", "/preferences/{pref}/less", "/u/{unsub}"];

    static readonly string[] TokenPaths = ["/preferences/{0}", "/preferences/{0}/data", "/preferences/{0}/erase", "/preferences/{0}/less?topic=empathy", "/u/{0}"];

    static readonly string[] TokenPosts = ["/preferences/{0}", "/preferences/{0}/pause", "/preferences/{0}/resume",
        "/preferences/{0}/unsubscribe", "/preferences/{0}/erase", "/preferences/{0}/less", "/u/{0}"];

    static readonly string[] AdminBodies = ["/admin/api/subscribers", "PUT /admin/api/subscribers/{id}",
        "/admin/api/editions/2023-03/test-send", "/admin/api/editions/2023-03/resend"];

    /// <summary>Requests whose form or body the endpoint must refuse before looking at its fields.</summary>
    static IEnumerable<(string Name, Attack Attack)> MalformedForms()
    {
        var truncated = "--XyZ\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nann@exa";
        foreach (var path in PublicForms)
        {
            yield return ($"POST {path}: charset utf-7", new("POST", path, Form + "; charset=utf-7", "email=a%40example.org&__antiforgery={af}"));
            yield return ($"POST {path}: charset utf-16", new("POST", path, Form + "; charset=utf-16", "email=a%40example.org&__antiforgery={af}"));
            yield return ($"POST {path}: unknown charset", new("POST", path, Form + "; charset=x-klingon", "email=a"));
            yield return ($"POST {path}: truncated multipart", new("POST", path, "multipart/form-data; boundary=XyZ", truncated));
            yield return ($"POST {path}: multipart without boundary", new("POST", path, "multipart/form-data", "--\r\n"));
            yield return ($"POST {path}: JSON instead of a form", new("POST", path, Json, "{\"email\":\"a@example.org\"}"));
            yield return ($"POST {path}: no content type", new("POST", path, null, "email=a"));
            yield return ($"POST {path}: 1000 fields", new("POST", path, Form, string.Join("&", Enumerable.Range(0, 1000).Select(i => $"f{i}=x"))));
            yield return ($"POST {path}: a 20 KB field", new("POST", path, Form, "name=" + new string('n', 20_000) + "&__antiforgery={af}"));
            yield return ($"POST {path}: body over the limit", new("POST", path, Form, "email=" + new string('a', 300 * 1024)));
            yield return ($"POST {path}: unparsable content type", new("POST", path, "form; ;; =", "email=a"));
        }
    }

    /// <summary>Well-formed forms whose fields are hostile: refused field by field (or by the antiforgery check).</summary>
    static IEnumerable<(string Name, Attack Attack)> HostileFields()
    {
        string[] fields =
        [
            "email=ann%40example.org%0D%0ABcc%3A+x%40example.org&allTopics=true",
            "email=%FF%FE%40example.org&allTopics=true",
            "email=a%00b%40example.org&allTopics=true",
            "email=Eve+%3Ceve%40example.org%3E&allTopics=true",
            "email=eve%40example.org&name=%3D%3Futf-8%3Fb%3FQW5uDQpCY2M6IGV2aWxAYXR0YWNrZXIub3Jn%3F%3D&allTopics=true",
            "email=eve%40example.org&name=Ann%E2%80%AE&allTopics=true",
            "email=eve%40example.org&name=A%E2%80%8Bnn&allTopics=true",
            "email=eve%40p%D0%B0ypal.com&allTopics=true",
            "email=eve%40xn--99999999999.org&allTopics=true",
            "email=eve%40example.org&topics=..%2F..%2Fetc%2Fpasswd",
            "email=eve%40example.org&topics=%3Cscript%3E",
            "email=eve%40example.org&topics=empathy%00",
            "email=eve%40example.org",
            "email=eve%40example.org&email=bob%40example.org&allTopics=true",
            "email=" + Uri.EscapeDataString(new string('a', 250) + "@example.org") + "&allTopics=true",
        ];
        foreach (var path in new[] { "/subscribe", "/preferences/{pref}" })
        {
            for (var i = 0; i < fields.Length; i++)
            {
                var body = path == "/subscribe" ? fields[i] : fields[i].Replace("email=", "name=", StringComparison.Ordinal);
                yield return ($"POST {path}: hostile fields #{i + 1}", new("POST", path, Form, body + "&__antiforgery={af}"));
            }
        }
        foreach (var path in PublicForms.Where(p => !p.StartsWith("/u/", StringComparison.Ordinal)))
        {
            yield return ($"POST {path}: no antiforgery token", new("POST", path, Form, "email=eve%40example.org&allTopics=true"));
            yield return ($"POST {path}: forged antiforgery token", new("POST", path, Form, "email=eve%40example.org&allTopics=true&__antiforgery=CfDJ8forged"));
        }
        yield return ("POST /u/{unsub}: without List-Unsubscribe=One-Click", new("POST", "/u/{unsub}", Form, "List-Unsubscribe=Yes"));
        yield return ("POST /u/{unsub}: One-Click twice", new("POST", "/u/{unsub}", Form, "List-Unsubscribe=One-Click&List-Unsubscribe=One-Click"));
        yield return ("POST /confirm: unknown token", new("POST", "/confirm", Form, "token=AAAA&__antiforgery={af}"));
        yield return ("POST /confirm: 5000-character token", new("POST", "/confirm", Form, "token=" + new string('A', 5000) + "&__antiforgery={af}"));
        yield return ("POST /confirm: token with NUL", new("POST", "/confirm", Form, "token=AA%00AA&__antiforgery={af}"));
        yield return ("GET /confirm: no token", new("GET", "/confirm"));
        yield return ("GET /confirm: 5000-character token", new("GET", "/confirm?token=" + new string('A', 5000)));
        yield return ("GET /confirm: token twice", new("GET", "/confirm?token=a&token=b"));
        foreach (var topic in new[] { "", "%00", "%FF%FE", "..%2F..%2Fetc", "%3Cscript%3E", new string('t', 5000), "empathy&topic=training" })
        {
            yield return ($"GET /preferences/{{pref}}/less: topic '{topic[..Math.Min(20, topic.Length)]}'", new("GET", "/preferences/{pref}/less?topic=" + topic));
            yield return ($"POST /preferences/{{pref}}/less: topic '{topic[..Math.Min(20, topic.Length)]}'", new("POST", "/preferences/{pref}/less", Form, "topic=" + topic + "&__antiforgery={af}"));
        }
        yield return ("GET /confirm: invalid UTF-8 token", new("GET", "/confirm?token=%FF%FE"));
    }

    /// <summary>Links that are not genuine: tampered, cut, of the other purpose, too long, path tricks.</summary>
    static IEnumerable<(string Name, Attack Attack)> BadTokens()
    {
        string[] tokens =
        [
            "{pref}x", "x{pref}", "{unsub}", "v2.local.1.AAAA", "v1.local.1.AAAA", "..%2F..%2Fadmin%2Fapi%2Fsubscribers", "%00",
            "%E2%80%AE{pref}", new string('A', 5000), "v2.k1.-1.AAAA", "v2.k1.99999999999999999999.AAAA",
        ];
        // On /u/ the wrong-purpose token is a preferences one.
        static string PathOf(string template, string token) => template.Replace("{0}",
            template.StartsWith("/u/", StringComparison.Ordinal) ? token.Replace("{unsub}", "{pref}", StringComparison.Ordinal) : token, StringComparison.Ordinal);
        foreach (var template in TokenPaths)
        {
            for (var i = 0; i < tokens.Length; i++)
            {
                yield return ($"GET {template}: bad token #{i + 1}", new("GET", PathOf(template, tokens[i])));
            }
        }
        foreach (var template in TokenPosts)
        {
            for (var i = 0; i < 5; i++)
            {
                yield return ($"POST {template}: bad token #{i + 1}", new("POST", PathOf(template, tokens[i]), Form,
                    "List-Unsubscribe=One-Click&allTopics=true&__antiforgery={af}"));
            }
        }
    }

    /// <summary>Pages with odd methods, queries and paths.</summary>
    static IEnumerable<(string Name, Attack Attack)> OddPages()
    {
        string[] paths = ["/", "/archive", "/archive/2023-03", "/archive/2023-13", "/archive/..%2F..%2Fetc", "/archive/%00", "/archive/9999-99",
            "/health", "/site.css", "/site.css%00.html", "/%2e%2e/%2e%2e/etc/passwd", "/nothing-here", "/?q=%FF%FE%00", "/subscribe", "/admin"];
        foreach (var path in paths)
        {
            yield return ($"GET {path}", new("GET", path));
        }
        foreach (var method in new[] { "PUT", "DELETE", "PATCH", "TRACE", "OPTIONS" })
        {
            yield return ($"{method} /", new(method, "/"));
            yield return ($"{method} /u/{{unsub}}", new(method, "/u/{unsub}"));
        }
        yield return ("GET / with a 16 KB cookie", new("GET", "/", Headers: new Dictionary<string, string> { ["Cookie"] = "x=" + new string('c', 16 * 1024) }));
        yield return ("GET / with a forged X-Forwarded-For", new("GET", "/", Headers: new Dictionary<string, string> { ["X-Forwarded-For"] = "203.0.113.1, <script>" }));
        yield return ("GET / with X-Forwarded-Host", new("GET", "/", Headers: new Dictionary<string, string> { ["X-Forwarded-Host"] = "attacker.example" }));
    }

    /// <summary>The admin API sent bodies, paths and queries it must refuse.</summary>
    static IEnumerable<(string Name, Attack Attack)> AdminAttacks()
    {
        string[] bodies =
        [
            "{\"email\":", "[]", "\"text\"", "{\"email\":5,\"name\":[],\"topics\":{}}", new string('[', 10_000) + new string(']', 10_000),
            "{\"email\":\"x@example.org\",\"name\":\"" + new string('n', 100_000) + "\",\"topics\":\"all\",\"to\":\"x\",\"kind\":\"bogus\"}",
            "{\"email\":\"a@example.org\",\"email\":\"b@example.org\",\"topics\":\"bogus\",\"kind\":\"everyone\",\"to\":\"no\"}",
            "{\"email\":\"a\\u0000@example.org\",\"name\":\"=?utf-8?b?QQ==?=\",\"topics\":\"all\",\"to\":\"a\\r\\nb\",\"kind\":\"email\",\"email2\":1}",
            "{\"email\":\"eve@p\\u0430ypal.com\",\"topics\":\"all\",\"to\":\"eve@p\\u0430ypal.com\",\"kind\":\"email\"}",
            "hex:7B22656D61696C223A22FF227D",
        ];
        foreach (var target in AdminBodies)
        {
            var (method, path) = target.StartsWith("PUT ", StringComparison.Ordinal) ? ("PUT", target[4..]) : ("POST", target);
            for (var i = 0; i < bodies.Length; i++)
            {
                yield return ($"{method} {path}: hostile JSON #{i + 1}", new(method, path, Json, bodies[i], Admin: true));
            }
            yield return ($"{method} {path}: JSON in utf-7", new(method, path, Json + "; charset=utf-7", "{}", Admin: true));
            yield return ($"{method} {path}: not JSON", new(method, path, "text/plain", "email=x", Admin: true));
            yield return ($"{method} {path}: no body", new(method, path, null, null, Admin: true));
            yield return ($"{method} {path}: without the key", new(method, path, Json, "{\"email\":\"x@example.org\",\"topics\":\"all\"}"));
        }
        string[] gets =
        [
            "/admin/api/subscribers?offset=-1", "/admin/api/subscribers?limit=100000", "/admin/api/subscribers?status=bogus",
            "/admin/api/subscribers?limit=abc", "/admin/api/subscribers?search=%00%FF", "/admin/api/subscribers/abc",
            "/admin/api/subscribers/99999999999999999999", "/admin/api/subscribers/-1", "/admin/api/subscribers/999999",
            "/admin/api/editions/2023-13", "/admin/api/editions/..%2F..", "/admin/api/editions/2031-01",
            "/admin/api/editions/2023-03/deliveries?state=lost", "/admin/api/editions/2023-03/deliveries?offset=-5&limit=0",
            "/admin/api/editions/2023-03/preview", "/admin/api/editions/2023-03/preview?email=%0D%0Ax", "/admin/api/editions/2023-03/preview?email=nobody%40example.org",
            "/admin/api/nothing", "/openapi/v2.json",
        ];
        foreach (var path in gets)
        {
            yield return ($"GET {path}", new("GET", path, Admin: true));
        }
        foreach (var path in new[] { "/admin/api/subscribers", "/admin/api/subscribers/{id}", "/admin/api/subscribers/export", "/admin/api/editions", "/openapi/v1.json" })
        {
            yield return ($"GET {path} without the key", new("GET", path));
        }
        yield return ("GET /admin/api/subscribers with a wrong key", new("GET", "/admin/api/subscribers", Headers: new Dictionary<string, string> { ["Authorization"] = "Bearer wrong" }));
        yield return ("DELETE /admin/api/subscribers/999999", new("DELETE", "/admin/api/subscribers/999999", Admin: true));
        yield return ("DELETE /admin/api/subscribers/{id}?erase=maybe", new("DELETE", "/admin/api/subscribers/{id}?erase=maybe", Admin: true));
        yield return ("DELETE /admin/api/subscribers/{id} without the key", new("DELETE", "/admin/api/subscribers/{id}"));
        yield return ("POST /admin/api/editions/2031-01/send", new("POST", "/admin/api/editions/2031-01/send", Admin: true));
        yield return ("POST /admin/api/editions/2023-13/send", new("POST", "/admin/api/editions/2023-13/send", Admin: true));
        yield return ("POST /admin/api/editions/2023-03/send without the key", new("POST", "/admin/api/editions/2023-03/send"));
        string[] csvs =
        [
            "hex:FFFEFD00", "email,name\nx@example.org,X\n", "", "email,name,topics\n\"unclosed,X,all\n", "email,name,topics\nbad,X,all\n",
            "email,name,topics\nx@example.org,\"=?utf-8?b?QQ==?=\",all\n", "email,name,topics\nx@example.org,X,astrology\n",
            "email,name,topics,status\nx@example.org,X,all,bogus\n", "email,name,topics\nx@example.org,X,all\nX@Example.org,Y,all\n",
            "email,name,topics\n" + new string('a', 100_000) + ",X,all\n",
        ];
        for (var i = 0; i < csvs.Length; i++)
        {
            yield return ($"POST /admin/api/subscribers/import: hostile CSV #{i + 1}", new("POST", "/admin/api/subscribers/import", "text/csv", csvs[i], Admin: true));
        }
        yield return ("POST /admin/api/subscribers/import: CSV in utf-7", new("POST", "/admin/api/subscribers/import", "text/csv; charset=utf-7", "email,name,topics\n", Admin: true));
    }

    static readonly Dictionary<string, Attack> Attacks = MalformedForms().Concat(HostileFields()).Concat(BadTokens())
        .Concat(OddPages()).Concat(AdminAttacks()).ToDictionary(a => a.Name, a => a.Attack);

    public static TheoryData<string> Names => new(Attacks.Keys);

    [Fact]
    public void The_sweep_covers_at_least_150_requests_and_every_endpoint()
    {
        Assert.True(Attacks.Count >= 150, $"{Attacks.Count} cases");
        var covered = Attacks.Values.Select(a => a.Path).ToList();
        foreach (var endpoint in new[] { "/subscribe", "/confirm", "/preferences/", "/data", "/erase", "/pause", "/resume", "/unsubscribe", "/less", "/u/",
                     "/archive", "/health", "/admin/api/subscribers/import", "/admin/api/subscribers/export", "/test-send", "/resend", "/send",
                     "/preview", "/deliveries", "/admin/api/editions", "/openapi/v1.json" })
        {
            Assert.Contains(covered, path => path.Contains(endpoint, StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task A_hostile_request_gets_no_5xx_carries_the_security_headers_and_a_refusal_stores_nothing(string name)
    {
        var attack = Attacks[name];
        using var request = new HttpRequestMessage(new HttpMethod(attack.Method), fixture.Fill(attack.Path).TrimStart('/'));
        if (attack.Body is not null)
        {
            var body = fixture.Fill(attack.Body);
            request.Content = new ByteArrayContent(body.StartsWith("hex:", StringComparison.Ordinal) ? Convert.FromHexString(body[4..]) : Encoding.UTF8.GetBytes(body));
            request.Content.Headers.ContentType = null;
            if (attack.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", attack.ContentType);
            }
        }
        if (attack.Admin)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.AdminKey);
        }
        foreach (var (header, value) in attack.Headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }
        var before = StoredState.Read(fixture.Test);

        using var response = await fixture.Visitor.Client.SendAsync(request);

        var status = (int)response.StatusCode;
        Assert.True(status < 500, $"{name}: {status} {await response.Content.ReadAsStringAsync()}");
        if (attack.RefusedByServer)
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(before, StoredState.Read(fixture.Test));
            return;
        }
        Assert.Equal("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("DENY", string.Join(",", response.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("no-referrer", string.Join(",", response.Headers.GetValues("Referrer-Policy")));
        Assert.Contains("frame-ancestors 'none'", string.Join(",", response.Headers.GetValues("Content-Security-Policy")));
        if (status >= 400)
        {
            Assert.Equal(before, StoredState.Read(fixture.Test));
        }
    }
}
