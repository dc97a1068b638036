using MimeKit;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// A message whose envelope sender (SMTP MAIL FROM, where bounces go) is not its From address: a digest with a VERP
/// return path. Chosen where the message is composed; the SMTP transport hands it to the relay. Any other message
/// goes out with its From address as the envelope sender.
/// </summary>
public sealed class EnvelopeMessage(IEnumerable<Header> headers, MailboxAddress envelopeSender) : MimeMessage(headers)
{
    public MailboxAddress EnvelopeSender { get; } = envelopeSender;
}
