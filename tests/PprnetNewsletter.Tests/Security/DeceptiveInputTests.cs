using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using PprnetNewsletter.Admin;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;
using static PprnetNewsletter.Tests.Support.WebSession;

namespace PprnetNewsletter.Tests.Security;

/// <summary>Names and addresses that would show a reader something else are refused at every entry point.</summary>
public class DeceptiveInputTests
{
    public static TheoryData<string, string> DeceptiveNames => new()
    {
        { "encoded word hiding CR/LF Bcc", "=?utf-8?b?QW5uDQpCY2M6IGV2aWxAYXR0YWNrZXIub3Jn?=" },
        { "encoded word in Q form", "Ann =?utf-8?q?x=0D=0ABcc:_evil@attacker.org?=" },
        { "right-to-left override", "Ann\u202Egro.rekcatta" },
        { "left-to-right embedding", "\u202AAnn" },
        { "first strong isolate", "Ann \u2068Lee\u2069" },
        { "zero-width space", "An\u200Bn" },
        { "zero-width joiner", "Ann\u200DLee" },
        { "byte-order mark", "\uFEFFAnn" },
        { "Cyrillic A among Latin", "\u0410nn Smith" },
        { "Greek omicron among Latin", "B\u03BFb" },
    };

    public static TheoryData<string, string> DeceptiveAddresses => new()
    {
        { "zero-width space in the domain", "ann@exa\u200Bmple.org" },
        { "right-to-left override in the domain", "ann@\u202Egro.elpmaxe" },
        { "Cyrillic a in a Latin domain", "ann@p\u0430ypal.com" },
        { "the same as punycode", $"ann@{new IdnMapping().GetAscii("p\u0430ypal")}.com" },
        { "punycode that does not decode", "ann@xn--99999999999.org" },
        { "punycode of plain ASCII", "ann@xn--example-.org" },
    };

    static readonly string[] HonestNames = ["José Müller-Lüdenscheidt", "Дмитрий Иванов", "Αλέξης Παππάς", "O'Brien, Ann", "李小龍", "Ann Lee, PhD"];

    [Theory]
    [MemberData(nameof(DeceptiveNames))]
    public async Task A_deceptive_name_is_refused_by_the_form_the_preference_centre_the_admin_api_and_csv(string why, string name)
    {
        var (test, admin) = await AdminClient.StartAsync();
        await using var _ = test;
        using var __ = admin;
        var ann = await test.Get<ISubscriberStore>().AddAsync(new NewSubscriber("ann@example.org", "Ann", TopicSelection.All), ConsentContext.Admin);
        var token = test.Get<LinkTokens>().Create(ann.Id, LinkPurpose.Preferences);
        using var visitor = new WebSession(test);
        var before = StoredState.Read(test);

        await visitor.GetAsync("/");
        var form = await visitor.PostFormAsync("/subscribe", Fields(("email", "bob@example.org"), ("name", name), ("allTopics", "true")));
        await visitor.GetAsync($"/preferences/{token}");
        var preferences = await visitor.PostFormAsync($"/preferences/{token}", Fields(("name", name), ("allTopics", "true")));
        var api = await admin.PostAsJsonAsync("admin/api/subscribers", new SubscriberInput("cy@example.org", name, "all", null));
        var rename = await admin.PutAsJsonAsync($"admin/api/subscribers/{ann.Id}", new SubscriberInput(null, name, null, null));
        var csv = await admin.PostAsync("admin/api/subscribers/import",
            new StringContent($"email,name,topics\ndee@example.org,\"{name}\",all\n", Encoding.UTF8, "text/csv"));

        Assert.All(new[] { form, preferences, api, rename, csv }, r => Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{why}: {r.RequestMessage!.RequestUri} {r.StatusCode}"));
        Assert.Contains("Name", await form.Content.ReadAsStringAsync());
        Assert.Equal(before, StoredState.Read(test));
    }

    [Theory]
    [MemberData(nameof(DeceptiveAddresses))]
    public async Task A_deceptive_address_is_refused_by_the_form_the_admin_api_and_csv(string why, string email)
    {
        var (test, admin) = await AdminClient.StartAsync();
        await using var _ = test;
        using var __ = admin;
        using var visitor = new WebSession(test);
        var before = StoredState.Read(test);

        await visitor.GetAsync("/");
        var form = await visitor.PostFormAsync("/subscribe", Fields(("email", email), ("allTopics", "true")));
        var api = await admin.PostAsJsonAsync("admin/api/subscribers", new SubscriberInput(email, "", "all", null));
        var csv = await admin.PostAsync("admin/api/subscribers/import", new StringContent($"email,name,topics\n{email},,all\n", Encoding.UTF8, "text/csv"));

        Assert.All(new[] { form, api, csv }, r => Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{why}: {r.RequestMessage!.RequestUri} {r.StatusCode}"));
        Assert.Equal(before, StoredState.Read(test));
        Assert.Empty(Outbox.Messages(test));
    }

    [Fact]
    public void Honest_names_and_international_domains_in_one_script_are_accepted()
    {
        foreach (var name in HonestNames)
        {
            Assert.True(SubscriberNameRules.TryNormalize(name, out _, out var problem), $"{name}: {problem}");
        }
        foreach (var email in new[] { "ann@bücher.de", "ann@пример.рф", "ann@xn--bcher-kva.de", "ann@example.org" })
        {
            Assert.True(EmailAddressRules.TryNormalize(email, out _, out var problem), $"{email}: {problem}");
        }
    }
}
