using System.Text.RegularExpressions;
using MimeKit;

namespace PprnetNewsletter.Tests.Support;

/// <summary>The pickup directory of a test app, read as a mailbox.</summary>
public static partial class Outbox
{
    public static IReadOnlyList<MimeMessage> Messages(TestApp test) =>
        Directory.Exists(test.OutboxPath)
            ? Directory.GetFiles(test.OutboxPath, "*.eml").Order().Select(path => MimeMessage.Load(path)).ToList()
            : [];

    public static IReadOnlyList<MimeMessage> To(TestApp test, string email) =>
        Messages(test).Where(m => m.To.Mailboxes.Any(a => string.Equals(a.Address, email, StringComparison.OrdinalIgnoreCase))).ToList();

    /// <summary>The path and query of the first link in the message to <paramref name="pathStart"/> (e.g. "/confirm").</summary>
    public static string LinkTo(MimeMessage message, string pathStart)
    {
        var text = message.TextBody ?? message.HtmlBody ?? "";
        foreach (Match match in Url().Matches(text))
        {
            var uri = new Uri(match.Value);
            if (uri.AbsolutePath.StartsWith(pathStart, StringComparison.Ordinal))
            {
                return uri.PathAndQuery;
            }
        }
        throw new InvalidOperationException($"No link to {pathStart} in: {text}");
    }

    [GeneratedRegex(@"https?://[^\s""<>]+")]
    private static partial Regex Url();
}
