using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using PprnetNewsletter.Storage.Postgres;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Web;

/// <summary>Instances behind a load balancer: a form rendered by one is accepted by another.</summary>
public sealed partial class SharedKeyRingTests
{
    /// <summary>What a form refused by the antiforgery check says (WebForms.ReadAsync).</summary>
    const string ExpiredForm = "This form has expired or did not come from this site";

    [Fact]
    public async Task A_form_rendered_by_one_instance_on_postgres_passes_the_antiforgery_check_of_another()
    {
        var config = await PostgresServer.ConfigAsync();
        await using var first = await TestApp.StartWebAsync(config);
        await using var second = await TestApp.StartWebAsync(config);
        using var toFirst = first.CreateClient();
        using var toSecond = second.CreateClient();

        // The sign-in form as the first instance serves it: its antiforgery cookie and the token in the form.
        var page = await toFirst.GetAsync("admin/signin");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var cookie = Assert.Single(page.Headers.GetValues("Set-Cookie"), c => c.StartsWith("pprnet-antiforgery=", StringComparison.Ordinal)).Split(';')[0];
        var token = WebUtility.HtmlDecode(AntiforgeryField().Match(await page.Content.ReadAsStringAsync()).Groups["value"].Value);

        // The same browser's next request lands on the second instance.
        var withToken = await PostAsync(toSecond, cookie, token);
        var withoutToken = await PostAsync(toSecond, cookie, token: null);

        Assert.DoesNotContain(ExpiredForm, withToken);
        Assert.Contains(ExpiredForm, withoutToken);
        await using var connection = await first.Get<PgDb>().OpenAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM data_protection_keys"));
    }

    static async Task<string> PostAsync(HttpClient client, string cookie, string? token)
    {
        var fields = new Dictionary<string, string> { ["email"] = "admin@example.org", ["password"] = "not the password" };
        if (token is not null)
        {
            fields["__antiforgery"] = token;
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, "admin/signin") { Content = new FormUrlEncodedContent(fields) };
        request.Headers.Add("Cookie", cookie);
        using var response = await client.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }

    [GeneratedRegex("name=\"__antiforgery\" value=\"(?<value>[^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
