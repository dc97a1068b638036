using MimeKit;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Digests;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Web;

/// <summary>
/// Queues the two emails of the subscribe form (composed by the digests' templates) on the durable mail queue, which
/// the service's delivery worker sends with retries: the page answers at once, and a relay that is down delays the
/// email instead of losing it. The page reads the same whatever happens to the address, so it never tells whether
/// an address is known.
/// </summary>
public sealed class SubscriptionMail(MailQueue queue, SubscriptionEmails emails)
{
    public async Task SendConfirmationAsync(Subscriber subscriber, IssuedConfirmation confirmation, CancellationToken ct) =>
        await QueueAsync("confirmation", await emails.ConfirmationAsync(subscriber, confirmation.Token), ct);

    public async Task SendPreferencesLinkAsync(Subscriber subscriber, CancellationToken ct) =>
        await QueueAsync("preferences-link", await emails.ManagePreferencesAsync(subscriber), ct);

    async Task QueueAsync(string kind, MimeMessage message, CancellationToken ct)
    {
        using (message)
        {
            await queue.EnqueueAsync(kind, message, ct);
        }
    }
}
