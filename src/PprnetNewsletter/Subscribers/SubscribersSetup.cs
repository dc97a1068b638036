namespace PprnetNewsletter.Subscribers;

public static class SubscribersSetup
{
    /// <summary>Subscribers, topic preferences, consent ledger, tokens.</summary>
    public static WebApplicationBuilder AddSubscribers(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<SubscriberStore>();
        return builder;
    }
}
