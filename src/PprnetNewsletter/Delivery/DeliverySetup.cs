using Microsoft.Extensions.Options;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Delivery;

public static class DeliverySetup
{
    /// <summary>Delivery ledger, SMTP or pickup-directory transport, retries and rate limit.</summary>
    public static WebApplicationBuilder AddDelivery(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<SmtpOptions>(SmtpOptions.Section);
        builder.Services.AddValidatedOptions<DeliveryOptions>(DeliveryOptions.Section);
        builder.Services.AddSingleton<IMailTransport>(sp =>
            sp.GetRequiredService<IOptions<SmtpOptions>>().Value.UsesPickupDirectory
                ? ActivatorUtilities.CreateInstance<PickupDirectoryTransport>(sp)
                : throw new NotSupportedException("SMTP delivery is not built yet"));
        return builder;
    }
}
