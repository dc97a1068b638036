using System.Collections.Concurrent;
using MimeKit;
using PprnetNewsletter.Content;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Digests;

/// <summary>
/// The emails of the subscription itself, for the web pages: the double opt-in confirmation, and the
/// "manage your preferences" email sent when a confirmed address subscribes again (so the form never reveals
/// whether an address is subscribed).
/// </summary>
public sealed class SubscriptionEmails(
    EmailRenderer renderer, MessageAssembly assembly, LinkTokens tokens, TopicCatalog topics)
{
    readonly ConcurrentDictionary<(string Email, bool HasName), Lazy<Task<PersonalisedEmail>>> _rendered = new();
    readonly Lazy<Task<IReadOnlyDictionary<long, string>>> _topicNames = new(async () =>
        (await topics.AllAsync()).ToDictionary(t => t.Id, t => t.Name));

    /// <summary>"Confirm your subscription": a link to <c>{BaseUrl}/confirm?token=</c><paramref name="confirmToken"/>.</summary>
    public Task<MimeMessage> ConfirmationAsync(Subscriber subscriber, string confirmToken) =>
        ComposeAsync(EmailTemplates.Confirmation, subscriber, "confirm", values =>
            values[Slot.Confirm] = renderer.Links.Confirm(confirmToken));

    /// <summary>"You are already subscribed": a link to the subscriber's preference page.</summary>
    public Task<MimeMessage> ManagePreferencesAsync(Subscriber subscriber) =>
        ComposeAsync(EmailTemplates.ManagePreferences, subscriber, "preferences", values =>
        {
            values[Slot.Preferences] = renderer.Links.Preferences(tokens.Create(subscriber.Id, LinkPurpose.Preferences));
            values[Slot.Unsubscribe] = renderer.Links.Unsubscribe(tokens.Create(subscriber.Id, LinkPurpose.Unsubscribe));
        });

    async Task<MimeMessage> ComposeAsync(string email, Subscriber subscriber, string kind, Action<ReaderValues> links)
    {
        var values = new ReaderValues(subscriber.Name, subscriber.Email,
            ReaderValues.DescribeTopics(subscriber.AllTopics, subscriber.TopicIds, await _topicNames.Value));
        links(values);
        var rendered = await _rendered.GetOrAdd((email, values.Name.Length > 0),
            key => new Lazy<Task<PersonalisedEmail>>(() => RenderAsync(key.Email, key.HasName))).Value;
        var message = assembly.Build(rendered.Headers, values.Name, subscriber.Email, assembly.RandomMessageId(kind, subscriber.Id), rendered.Fill(values));
        assembly.Sign(message);
        return message;
    }

    Task<PersonalisedEmail> RenderAsync(string email, bool hasName)
    {
        var links = renderer.Links;
        var reader = EmailRenderer.PlaceholderReader(hasName);
        var sender = renderer.Sender;
        EmailModel model = email == EmailTemplates.Confirmation
            ? new ConfirmationModel
            {
                Subject = "Please confirm your subscription to the PPRNet research digest",
                Reader = reader,
                Sender = sender,
                Links = new EmailLinks { Home = links.Home, Confirm = Placeholders.Of(Slot.Confirm) },
            }
            : new ManagePreferencesModel
            {
                Subject = "Your PPRNet research digest subscription",
                Reader = reader,
                Sender = sender,
                Links = new EmailLinks
                {
                    Home = links.Home,
                    Preferences = Placeholders.Of(Slot.Preferences),
                    Unsubscribe = Placeholders.Of(Slot.Unsubscribe),
                },
            };
        return renderer.RenderAsync(email, model, feedbackId: null);
    }
}
