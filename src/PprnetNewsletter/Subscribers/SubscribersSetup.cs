using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Subscribers;

public static class SubscribersSetup
{
    /// <summary>Subscribers, topic preferences, consent ledger, double opt-in and link tokens.</summary>
    public static WebApplicationBuilder AddSubscribers(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<TokenOptions>(TokenOptions.Section);
        builder.Services.AddSingleton<SubscriberStore>();
        builder.Services.AddSingleton<ConfirmationTokens>();
        builder.Services.AddSingleton<TokenKeys>();
        builder.Services.AddSingleton<LinkTokens>();
        return builder;
    }
}
