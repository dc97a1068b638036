using MimeKit;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Web;

/// <summary>
/// Sends the two emails of the subscribe form (composed by the digests' templates) at once through the mail
/// transport. A failure is logged and not shown: the page must read the same whatever happens to the address,
/// so it never tells whether an address is known.
/// </summary>
public sealed class SubscriptionMail(IMailTransport transport, SubscriptionEmails emails, ILogger<SubscriptionMail> logger)
{
    public async Task SendConfirmationAsync(Subscriber subscriber, IssuedConfirmation confirmation, CancellationToken ct) =>
        await SendAsync(subscriber, "confirmation", await emails.ConfirmationAsync(subscriber, confirmation.Token), ct);

    public async Task SendPreferencesLinkAsync(Subscriber subscriber, CancellationToken ct) =>
        await SendAsync(subscriber, "preferences link", await emails.ManagePreferencesAsync(subscriber), ct);

    async Task SendAsync(Subscriber subscriber, string kind, MimeMessage message, CancellationToken ct)
    {
        try
        {
            await transport.SendAsync(message, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Could not send the {Kind} email to subscriber {Id}", kind, subscriber.Id);
        }
    }
}
