using System.Net.Http.Headers;

namespace PprnetNewsletter.Tests.Support;

/// <summary>A started app with an admin key generated for the test, and a client that sends it.</summary>
public static class AdminClient
{
    public static string NewKey() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));

    public static async Task<(TestApp Test, HttpClient Client)> StartAsync(IDictionary<string, string?>? config = null)
    {
        var key = NewKey();
        var all = new Dictionary<string, string?>(config ?? new Dictionary<string, string?>()) { ["Admin:ApiKey"] = key };
        var test = await TestApp.StartWebAsync(all);
        var client = test.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return (test, client);
    }
}
