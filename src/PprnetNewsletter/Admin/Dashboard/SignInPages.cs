using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Web;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>/admin/signin and /admin/signout: a password sign-in with a lockout, and the audit rows of both.</summary>
public static class SignInPages
{
    public static RouteGroupBuilder MapSignInPages(this RouteGroupBuilder anonymous)
    {
        anonymous.MapGet("/signin", (string? returnUrl) => AdminPages.Show("signin", new SignInPage { Title = "Sign in", ReturnUrl = Local(returnUrl) }));

        anonymous.MapPost("/signin", async (HttpContext http, AdminAccounts accounts, SignInThrottle throttle, AuditLog audit) =>
        {
            var form = await WebForms.ReadAsync(http);
            var email = (form["email"].ToString() ?? "").Trim();
            var password = form["password"].ToString() ?? "";
            var returnUrl = Local(form["returnUrl"]);
            var keys = new[] { SignInThrottle.AccountKey(email), SignInThrottle.AddressKey(http.Connection.RemoteIpAddress?.ToString()) };
            var page = new SignInPage { Title = "Sign in", Email = email, ReturnUrl = returnUrl };
            // The address typed is kept in the audit log only as printable text of bounded length.
            var who = EmailAddressRules.Printable(email.Length > 254 ? email[..254] : email);

            if (throttle.Begin(keys) is { } wait)
            {
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await audit.RecordAsync(who, "sign-in refused (locked out)", null, http.Connection.RemoteIpAddress?.ToString(), http.RequestAborted);
                return AdminPages.Show("signin", new SignInPage
                {
                    Title = "Sign in",
                    Email = email,
                    ReturnUrl = returnUrl,
                    Problem = $"Too many failed attempts. Try again in {Math.Ceiling(wait.TotalMinutes):0} minutes.",
                }, StatusCodes.Status429TooManyRequests);
            }
            AdminAccount? account;
            try
            {
                account = await accounts.VerifyAsync(email, password, http.RequestAborted);
            }
            catch
            {
                throttle.Abandoned(keys);
                throw;
            }
            if (account is null)
            {
                throttle.Failed(keys);
                await audit.RecordAsync(who, "sign-in failed", null, http.Connection.RemoteIpAddress?.ToString(), http.RequestAborted);
                return AdminPages.Show("signin", new SignInPage
                {
                    Title = "Sign in",
                    Email = email,
                    ReturnUrl = returnUrl,
                    Problem = "The address or the password is not right.",
                }, StatusCodes.Status400BadRequest);
            }
            throttle.Succeeded(keys[0], keys[1]);
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, account.Email)], DashboardSetup.Scheme);
            await http.SignInAsync(DashboardSetup.Scheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = false });
            await audit.RecordAsync(account.Email, "signed in", null, http.Connection.RemoteIpAddress?.ToString(), http.RequestAborted);
            return Results.Redirect(returnUrl);
        });

        anonymous.MapPost("/signout", async (HttpContext http, AuditLog audit) =>
        {
            await WebForms.ReadAsync(http);
            if (http.User.Identity?.IsAuthenticated == true)
            {
                await audit.RecordAsync(http, "signed out");
            }
            await http.SignOutAsync(DashboardSetup.Scheme);
            return Results.Redirect(DashboardSetup.SignInPath);
        });
        return anonymous;
    }

    /// <summary>Only a path of the dashboard itself is a place to return to: never another site (open redirect).</summary>
    static string Local(string? returnUrl) =>
        returnUrl is { Length: > 0 } url && url.StartsWith("/admin", StringComparison.Ordinal) && !url.StartsWith("//", StringComparison.Ordinal)
            && !url.Contains('\\') ? url : "/admin";
}

/// <summary>/admin/audit: the audit log, newest first.</summary>
public static class AuditPages
{
    public static RouteGroupBuilder MapAuditPages(this RouteGroupBuilder admin)
    {
        admin.MapGet("/audit", async (int? offset, AuditLog audit, CancellationToken ct) =>
        {
            const int limit = 100;
            var from = Math.Max(0, offset ?? 0);
            return AdminPages.Show("audit", new AuditPage
            {
                Title = "Audit log",
                Entries = await audit.ListAsync(from, limit, ct),
                Total = await audit.CountAsync(ct),
                Offset = from,
                Limit = limit,
            });
        });
        return admin;
    }
}
