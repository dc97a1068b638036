using Microsoft.Extensions.Options;
using MimeKit;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Web;

/// <summary>
/// The two emails the subscribe form sends: the double opt-in confirmation, and — for an address that is
/// already subscribed — a link to its preferences. Sent at once through the mail transport. A failure is
/// logged and not shown: the page must look the same whatever happens to the address (no enumeration).
/// </summary>
public sealed class SubscriptionMail(IMailTransport transport, LinkTokens links, IOptions<NewsletterOptions> options,
    ILogger<SubscriptionMail> logger)
{
    public Task SendConfirmationAsync(Subscriber subscriber, IssuedConfirmation confirmation, CancellationToken ct) =>
        SendAsync(subscriber, "Confirm your subscription to the PPRNet Research Digest",
            $"Please confirm your subscription: {options.Value.Link("confirm?token=" + confirmation.Token)}", ct);

    public Task SendPreferencesLinkAsync(Subscriber subscriber, CancellationToken ct) =>
        SendAsync(subscriber, "Manage your PPRNet Research Digest subscription",
            $"You are already subscribed. Manage your preferences: {options.Value.Link("preferences/" + links.Create(subscriber.Id, LinkPurpose.Preferences))}", ct);

    async Task SendAsync(Subscriber subscriber, string subject, string text, CancellationToken ct)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress(options.Value.FromName, options.Value.FromAddress));
        message.To.Add(new MailboxAddress(subscriber.Name, subscriber.Email));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = text };
        try
        {
            await transport.SendAsync(message, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Could not send '{Subject}' to subscriber {Id}", subject, subscriber.Id);
        }
    }
}
