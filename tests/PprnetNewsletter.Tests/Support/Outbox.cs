using System.Text.RegularExpressions;
using MimeKit;
using PprnetNewsletter.Delivery;

namespace PprnetNewsletter.Tests.Support;

/// <summary>The pickup directory of a test app, read as a mailbox.</summary>
public static partial class Outbox
{
    /// <summary>The messages written so far, once the mail queue has nothing left to send (the worker sends within moments).</summary>
    public static IReadOnlyList<MimeMessage> Messages(TestApp test)
    {
        WaitForMailQueue(test);
        return Directory.Exists(test.OutboxPath)
            ? Directory.GetFiles(test.OutboxPath, "*.eml").Order().Select(path => MimeMessage.Load(path)).ToList()
            : [];
    }

    /// <summary>Waits (up to 30 s) until the single emails queued by pages and the API are sent or failed.</summary>
    public static void WaitForMailQueue(TestApp test)
    {
        var queue = test.Get<MailQueue>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (queue.CountOpenAsync().GetAwaiter().GetResult() > 0 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
    }

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
