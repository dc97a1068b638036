using System.Net;
using PprnetNewsletter.Admin.Dashboard;

namespace PprnetNewsletter.Tests.Support;

/// <summary>An administrator account made for the test, and a signed-in visitor of the dashboard.</summary>
public static class AdminDashboard
{
    public const string Email = "admin@example.org";

    public const string Password = "correct horse battery";

    public static Task AddAccountAsync(TestApp test, string email = Email, string password = Password) =>
        test.Get<AdminAccounts>().AddAsync(email, password);

    /// <summary>A web session that has signed in through the sign-in form (account made first).</summary>
    public static async Task<WebSession> SignInAsync(TestApp test)
    {
        await AddAccountAsync(test);
        var session = new WebSession(test);
        await session.GetAsync("/admin/signin");
        var response = await session.PostFormAsync("/admin/signin", WebSession.Fields(("email", Email), ("password", Password)));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return session;
    }
}
