using PprnetNewsletter.Admin.Dashboard;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Admin.Dashboard;

public class AdminsVerbTests
{
    [Fact]
    public async Task Admins_add_reads_the_password_from_standard_input_hashes_it_and_list_and_remove_work()
    {
        await using var test = await TestApp.CreateAsync();

        var added = await PprnetProcess.RunWithInputAsync(test, "a long passphrase here\n", "admins", "add", "Ann@Example.org");
        var tooShort = await PprnetProcess.RunWithInputAsync(test, "short\n", "admins", "add", "ben@example.org");
        var twice = await PprnetProcess.RunWithInputAsync(test, "another long passphrase\n", "admins", "add", "ann@example.org");
        var badAddress = await PprnetProcess.RunWithInputAsync(test, "a long passphrase here\n", "admins", "add", "not an address");
        var list = await PprnetProcess.RunAsync(test, new Dictionary<string, string?>(), "admins", "list");

        Assert.Equal(0, added.ExitCode);
        Assert.Equal(2, tooShort.ExitCode);
        Assert.Contains("at least 12 characters", tooShort.Error);
        Assert.Equal(2, twice.ExitCode);
        Assert.Contains("already an administrator", twice.Error);
        Assert.Equal(2, badAddress.ExitCode);
        Assert.StartsWith("Ann@example.org\t", list.Out);
        Assert.Single(list.Out.Trim().Split('\n'));

        // Stored as Identity's hash, never as the password; and it verifies.
        var accounts = test.Get<AdminAccounts>();
        await using (var connection = await test.Get<PprnetNewsletter.Storage.Db>().OpenAsync())
        {
            var stored = await Dapper.SqlMapper.ExecuteScalarAsync<string>(connection, "SELECT password_hash FROM admins");
            Assert.DoesNotContain("passphrase", stored);
            Assert.Equal(1, Convert.FromBase64String(stored!)[0]);   // format marker of PasswordHasher's version 3
        }
        Assert.NotNull(await accounts.VerifyAsync("ann@example.org", "a long passphrase here"));
        Assert.Null(await accounts.VerifyAsync("ann@example.org", "a long passphrase herE"));

        Assert.Equal(0, (await PprnetProcess.RunAsync(test, new Dictionary<string, string?>(), "admins", "remove", "ann@example.org")).ExitCode);
        Assert.Equal(2, (await PprnetProcess.RunAsync(test, new Dictionary<string, string?>(), "admins", "remove", "ann@example.org")).ExitCode);
        Assert.Empty(await accounts.ListAsync());
    }
}
