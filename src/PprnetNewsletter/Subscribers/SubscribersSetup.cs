namespace PprnetNewsletter.Subscribers;

public static class SubscribersSetup
{
    /// <summary>Subscribers, topic preferences, consent ledger.</summary>
    public static WebApplicationBuilder AddSubscribers(this WebApplicationBuilder builder)
    {
        return builder;
    }
}
