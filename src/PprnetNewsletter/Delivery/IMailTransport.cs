using MimeKit;

namespace PprnetNewsletter.Delivery;

/// <summary>What the relay said when it accepted a message (for the ledger).</summary>
public sealed record DeliveryReceipt(string Reply);

/// <summary>Hands one finished message to the mail system: an SMTP relay or the pickup directory.</summary>
public interface IMailTransport
{
    /// <summary>
    /// Delivers <paramref name="message"/> on the calling thread; throws when it was not accepted. The sending engine's
    /// path: each of its connections has a thread of its own, and MailKit's synchronous exchange costs a third less
    /// CPU per message than its asynchronous one (no completion hops through the thread pool).
    /// </summary>
    DeliveryReceipt Send(MimeMessage message, CancellationToken ct);

    /// <summary>Delivers <paramref name="message"/> without holding a thread: the path of web requests (one email each).</summary>
    Task<DeliveryReceipt> SendAsync(MimeMessage message, CancellationToken ct);

    /// <summary>One line for the start-up log: where mail goes.</summary>
    string Describe();
}
