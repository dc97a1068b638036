using MimeKit;

namespace PprnetNewsletter.Delivery;

/// <summary>What the relay said when it accepted a message (for the ledger).</summary>
public sealed record DeliveryReceipt(string Reply);

/// <summary>Hands one finished message to the mail system: an SMTP relay or the pickup directory.</summary>
public interface IMailTransport
{
    /// <summary>Delivers <paramref name="message"/>; throws when it was not accepted.</summary>
    Task<DeliveryReceipt> SendAsync(MimeMessage message, CancellationToken ct);

    /// <summary>One line for the start-up log: where mail goes.</summary>
    string Describe();
}
