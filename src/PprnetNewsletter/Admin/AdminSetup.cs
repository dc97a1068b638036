using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Admin;

public static class AdminSetup
{
    /// <summary>Admin API credential and services.</summary>
    public static WebApplicationBuilder AddAdmin(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<AdminOptions>(AdminOptions.Section);
        return builder;
    }
}
