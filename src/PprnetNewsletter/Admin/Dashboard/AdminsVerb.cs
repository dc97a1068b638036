using System.CommandLine;
using System.Text;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>The verb <c>admins</c>: the dashboard's accounts, managed from the machine that runs the service.</summary>
public static class AdminsVerb
{
    public static Command AdminVerbs(this IHost app)
    {
        var accounts = () => app.Services.GetRequiredService<AdminAccounts>();

        var addEmail = new Argument<string>("EMAIL") { Description = "The administrator's email address (their sign-in name)." };
        var add = new Command("add", $"Add an administrator. The password (at least {AdminAccounts.MinPasswordLength} characters) is read "
            + "from standard input, or asked for when standard input is a terminal.") { addEmail };
        add.SetAction(async (parsed, ct) =>
        {
            var password = ReadPassword();
            var added = await accounts().AddAsync(parsed.GetValue(addEmail)!, password, ct);
            Console.WriteLine($"Added administrator {added.Email}. Sign in at <Newsletter:BaseUrl>/admin.");
            return ExitCodes.Success;
        });

        var list = new Command("list", "List the administrators.");
        list.SetAction(async (_, ct) =>
        {
            foreach (var account in await accounts().ListAsync(ct))
            {
                Console.WriteLine($"{account.Email}\tadded {account.CreatedAt:yyyy-MM-dd HH:mm}Z");
            }
            return ExitCodes.Success;
        });

        var removeEmail = new Argument<string>("EMAIL") { Description = "The administrator to remove; their open sessions end too." };
        var remove = new Command("remove", "Remove an administrator.") { removeEmail };
        remove.SetAction(async (parsed, ct) =>
        {
            var email = parsed.GetValue(removeEmail)!;
            if (!await accounts().RemoveAsync(email, ct))
            {
                throw new UsageException($"There is no administrator {email}. 'pprnet admins list' shows them.");
            }
            Console.WriteLine($"Removed administrator {email}.");
            return ExitCodes.Success;
        });

        return new Command("admins", "Administrator accounts of the dashboard at /admin.") { add, list, remove };
    }

    /// <summary>One line of standard input, or a prompt that does not echo what is typed.</summary>
    static string ReadPassword()
    {
        if (Console.IsInputRedirected)
        {
            return Console.In.ReadLine() ?? throw new UsageException("No password on standard input: pipe it in, or run the command in a terminal.");
        }
        Console.Error.Write($"Password (at least {AdminAccounts.MinPasswordLength} characters): ");
        var password = new StringBuilder();
        while (Console.ReadKey(intercept: true) is var key && key.Key != ConsoleKey.Enter)
        {
            if (key.Key == ConsoleKey.Backspace)
            {
                password.Length = Math.Max(0, password.Length - 1);
            }
            else if (!char.IsControl(key.KeyChar))
            {
                password.Append(key.KeyChar);
            }
        }
        Console.Error.WriteLine();
        return password.ToString();
    }
}
