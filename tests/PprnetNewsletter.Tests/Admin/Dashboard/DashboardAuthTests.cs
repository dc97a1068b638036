using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PprnetNewsletter.Admin.Dashboard;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Admin.Dashboard;

public class DashboardAuthTests
{
    /// <summary>Every dashboard route (read from the routing table, so a new one cannot be missed), and whether it allows anonymous visitors.</summary>
    static IReadOnlyList<(string Method, string Path, bool Anonymous)> DashboardRoutes(TestApp test) =>
        test.Get<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && raw.StartsWith("/admin", StringComparison.Ordinal) && !raw.StartsWith("/admin/api", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(method => (method,
                e.RoutePattern.RawText!.Replace("{id:long}", "1").Replace("{month}", "2023-03").Replace("{slug}", "capacity-to-mentalize").TrimEnd('/'),
                e.Metadata.GetMetadata<IAllowAnonymous>() is not null)))
            .ToList();

    [Fact]
    public async Task Every_dashboard_route_without_a_session_redirects_to_sign_in_and_changes_nothing()
    {
        await using var test = await TestApp.StartWebAsync();
        await SampleContent.ImportAsync(test);
        using var client = test.CreateClient();
        var routes = DashboardRoutes(test);

        Assert.Equal(["GET /admin/admin.css", "GET /admin/dashboard.js", "GET /admin/signin", "POST /admin/signin", "POST /admin/signout"],
            routes.Where(r => r.Anonymous).Select(r => $"{r.Method} {r.Path}").Order(StringComparer.Ordinal));
        var guarded = routes.Where(r => !r.Anonymous).ToList();
        Assert.True(guarded.Count >= 8, $"only {guarded.Count} dashboard routes found");
        foreach (var (method, path, _) in guarded)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), (path.Length == 0 ? "/admin" : path).TrimStart('/'))
            {
                Content = method == "POST" ? new FormUrlEncodedContent([new("kind", "failed"), new("to", "x@example.org")]) : null,
            };
            var response = await client.SendAsync(request);

            Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{method} {path}: {response.StatusCode}");
            Assert.StartsWith("/admin/signin?returnUrl=", response.Headers.Location!.PathAndQuery);
        }
        Assert.Equal(0, await test.Get<AuditLog>().CountAsync());
        Assert.All(await test.Get<PprnetNewsletter.Content.IContentStore>().ListEditionsAsync(), e => Assert.Equal("draft", e.Status));
    }

    [Fact]
    public async Task Sign_in_sets_an_http_only_strict_cookie_secure_over_https_and_sign_out_ends_the_session()
    {
        // The test client stands for the reverse proxy too, so loopback is named as one (X-Forwarded-* is believed from no one else).
        await using var test = await TestApp.StartWebAsync(new Dictionary<string, string?> { ["Web:TrustedProxies"] = "127.0.0.1, ::1" });
        await AdminDashboard.AddAccountAsync(test);
        using var session = new WebSession(test);
        await session.GetAsync("/admin/signin");

        var wrong = await session.PostFormAsync("/admin/signin", WebSession.Fields(("email", AdminDashboard.Email), ("password", "not the password")));
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Contains("not right", await wrong.Content.ReadAsStringAsync());
        Assert.False(wrong.Headers.Contains("Set-Cookie") && wrong.Headers.GetValues("Set-Cookie").Any(c => c.StartsWith("pprnet-admin=", StringComparison.Ordinal)));

        var right = await session.PostFormAsync("/admin/signin",
            WebSession.Fields(("email", "ADMIN@example.org"), ("password", AdminDashboard.Password), ("returnUrl", "/admin/audit")));
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        Assert.Equal("/admin/audit", right.Headers.Location!.OriginalString);
        var cookie = right.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("pprnet-admin=", StringComparison.Ordinal)).ToLowerInvariant();
        Assert.Contains("httponly", cookie);
        Assert.Contains("samesite=strict", cookie);
        Assert.Contains("path=/admin", cookie);
        Assert.DoesNotContain("secure", cookie);
        Assert.DoesNotContain("expires", cookie);   // a session cookie; the 8 hours are in its protected ticket

        var (status, html) = await session.GetAsync("/admin/audit");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("signed in", html);
        Assert.Contains("sign-in failed", html);

        Assert.Equal(HttpStatusCode.Redirect, (await session.PostFormAsync("/admin/signout", [])).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await session.GetAsync("/admin/audit")).Status);

        // Behind a reverse proxy on this machine that terminates https, the cookie is Secure.
        using var proxied = new WebSession(test);
        await proxied.GetAsync("/admin/signin");
        using var request = new HttpRequestMessage(HttpMethod.Post, "admin/signin")
        {
            Content = new FormUrlEncodedContent(WebSession.Fields(("email", AdminDashboard.Email), ("password", AdminDashboard.Password),
                ("__antiforgery", await AntiforgeryOf(proxied)))),
        };
        request.Headers.Add("X-Forwarded-Proto", "https");
        var secure = await proxied.Client.SendAsync(request);
        Assert.Contains("secure", secure.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("pprnet-admin=", StringComparison.Ordinal)).ToLowerInvariant());
    }

    static async Task<string> AntiforgeryOf(WebSession session)
    {
        var (_, html) = await session.GetAsync("/admin/signin");
        var match = System.Text.RegularExpressions.Regex.Match(html, "name=\"__antiforgery\" value=\"(?<v>[^\"]+)\"");
        return WebUtility.HtmlDecode(match.Groups["v"].Value);
    }

    [Fact]
    public async Task After_five_failures_for_one_account_even_the_right_password_gets_429()
    {
        await using var test = await TestApp.StartWebAsync();
        await AdminDashboard.AddAccountAsync(test);
        using var session = new WebSession(test);
        await session.GetAsync("/admin/signin");
        for (var i = 0; i < 5; i++)
        {
            var failed = await session.PostFormAsync("/admin/signin", WebSession.Fields(("email", AdminDashboard.Email), ("password", $"guess number {i}")));
            Assert.Equal(HttpStatusCode.BadRequest, failed.StatusCode);
        }

        var locked = await session.PostFormAsync("/admin/signin", WebSession.Fields(("email", AdminDashboard.Email), ("password", AdminDashboard.Password)));

        Assert.Equal((HttpStatusCode)429, locked.StatusCode);
        Assert.InRange(int.Parse(locked.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 14 * 60, 15 * 60);
        Assert.DoesNotContain(locked.Headers, h => h.Key == "Set-Cookie" && h.Value.Any(v => v.StartsWith("pprnet-admin=", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Guesses_sent_all_at_once_get_no_more_tries_than_guesses_sent_one_by_one()
    {
        await using var test = await TestApp.StartWebAsync();
        await AdminDashboard.AddAccountAsync(test);
        using var session = new WebSession(test);
        await session.GetAsync("/admin/signin");

        // Each password check takes a while on purpose: a guesser who does not wait for the answers must still be
        // stopped after five, not after as many as were in flight.
        var guesses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            session.PostFormAsync("/admin/signin", WebSession.Fields(("email", AdminDashboard.Email), ("password", $"parallel guess {i}")))));

        var checkedGuesses = guesses.Count(r => r.StatusCode == HttpStatusCode.BadRequest);
        Assert.Equal(40 - checkedGuesses, guesses.Count(r => r.StatusCode == (HttpStatusCode)429));
        Assert.Equal(5, checkedGuesses);
        var right = await session.PostFormAsync("/admin/signin", WebSession.Fields(("email", AdminDashboard.Email), ("password", AdminDashboard.Password)));
        Assert.Equal((HttpStatusCode)429, right.StatusCode);
    }

    [Fact]
    public void The_lockout_counts_per_account_and_per_address_within_the_window_and_ends_after_fifteen_minutes()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var throttle = new SignInThrottle(time, Options.Create(new DashboardOptions()));
        var ann = SignInThrottle.AccountKey("ann@example.org");
        string Address(int i) => SignInThrottle.AddressKey($"127.0.0.{i}");

        // Four failures, then a pause longer than the window: the count starts again.
        for (var i = 0; i < 4; i++)
        {
            throttle.Failed(ann, Address(i));
        }
        time.Advance(TimeSpan.FromMinutes(16));
        throttle.Failed(ann, Address(9));
        Assert.Null(throttle.LockedFor(ann));

        // Five within fifteen minutes from five addresses: the account is locked, none of the addresses is.
        for (var i = 0; i < 4; i++)
        {
            time.Advance(TimeSpan.FromMinutes(1));
            throttle.Failed(ann, Address(i + 10));
        }
        Assert.Equal(TimeSpan.FromMinutes(15), throttle.LockedFor(ann, Address(20)));
        Assert.Null(throttle.LockedFor(Address(10)));

        // One address trying five accounts is locked too.
        for (var i = 0; i < 5; i++)
        {
            throttle.Failed(SignInThrottle.AccountKey($"user{i}@example.org"), Address(30));
        }
        Assert.NotNull(throttle.LockedFor(SignInThrottle.AccountKey("someone@example.org"), Address(30)));

        time.Advance(TimeSpan.FromMinutes(15));
        Assert.Null(throttle.LockedFor(ann, Address(30)));
    }

    [Fact]
    public async Task Dashboard_forms_need_the_antiforgery_token()
    {
        await using var test = await TestApp.StartWebAsync();
        await SampleContent.ImportAsync(test);
        using var session = await AdminDashboard.SignInAsync(test);
        var before = await test.Get<AuditLog>().CountAsync();
        await session.GetAsync("/admin/editions/2023-03");

        var forged = await session.PostFormAsync("/admin/editions/2023-03/send", [], withAntiforgery: false);
        var forgedSignOut = await session.PostFormAsync("/admin/signout", [], withAntiforgery: false);
        using var anonymous = new WebSession(test);
        var forgedSignIn = await anonymous.PostFormAsync("/admin/signin",
            WebSession.Fields(("email", AdminDashboard.Email), ("password", AdminDashboard.Password)), withAntiforgery: false);

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest),
            (forged.StatusCode, forgedSignOut.StatusCode, forgedSignIn.StatusCode));
        Assert.Equal("draft", (await test.Get<PprnetNewsletter.Content.IContentStore>().GetEditionAsync("2023-03"))!.Status);
        Assert.Equal(before, await test.Get<AuditLog>().CountAsync());
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/admin")).Status);   // still signed in
    }

    [Fact]
    public async Task Every_dashboard_form_refuses_a_post_without_the_antiforgery_token_even_in_a_session()
    {
        await using var test = await TestApp.StartWebAsync();
        await SampleContent.ImportAsync(test);
        var ana = await test.Get<PprnetNewsletter.Subscribers.ISubscriberStore>().AddAsync(
            new PprnetNewsletter.Subscribers.NewSubscriber("ana@example.org", "", PprnetNewsletter.Subscribers.TopicSelection.All),
            PprnetNewsletter.Subscribers.ConsentContext.Admin);
        using var session = await AdminDashboard.SignInAsync(test);
        var before = await test.Get<AuditLog>().CountAsync();
        var posts = DashboardRoutes(test).Where(r => r.Method == "POST" && r.Path != "/admin/signin").ToList();
        Assert.True(posts.Count >= 12, $"only {posts.Count} dashboard forms found");

        foreach (var (_, path, _) in posts)
        {
            var response = await session.PostFormAsync(path.Replace("/subscribers/1", $"/subscribers/{ana.Id}"),
                WebSession.Fields(("kind", "failed"), ("to", "x@example.org"), ("topics", "empathy")), withAntiforgery: false);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"POST {path}: {response.StatusCode}");
        }
        Assert.Equal(before, await test.Get<AuditLog>().CountAsync());
        Assert.Equal(PprnetNewsletter.Subscribers.SubscriberStatus.Confirmed,
            (await test.Get<PprnetNewsletter.Subscribers.ISubscriberStore>().GetAsync(ana.Id))!.Status);
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/admin")).Status);
    }

    [Fact]
    public async Task The_session_slides_over_eight_hours_by_default()
    {
        await using var test = await TestApp.CreateAsync();

        var cookie = test.Get<IOptionsMonitor<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions>>().Get(DashboardSetup.Scheme);

        Assert.Equal((TimeSpan.FromHours(8), true), (cookie.ExpireTimeSpan, cookie.SlidingExpiration));
        Assert.Same(test.Get<TimeProvider>(), cookie.TimeProvider);
    }

    [Fact]
    public async Task A_removed_administrators_session_ends_at_the_next_request()
    {
        await using var test = await TestApp.StartWebAsync();
        using var session = await AdminDashboard.SignInAsync(test);
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/admin")).Status);

        Assert.Equal(0, await test.RunCliAsync("admins", "remove", AdminDashboard.Email));

        Assert.Equal(HttpStatusCode.Redirect, (await session.GetAsync("/admin")).Status);
    }

    [Fact]
    public async Task Dashboard_pages_allow_only_their_own_script_and_are_not_cached()
    {
        await using var test = await TestApp.StartWebAsync();
        using var session = await AdminDashboard.SignInAsync(test);

        var response = await session.Client.GetAsync("admin");

        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        Assert.DoesNotContain("<script>", await response.Content.ReadAsStringAsync());
    }
}
