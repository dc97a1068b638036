using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Digests;

public static class DigestSetup
{
    /// <summary>Selection, Razor templates, MIME assembly, tokens, DKIM.</summary>
    public static WebApplicationBuilder AddDigests(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<DigestOptions>(DigestOptions.Section);
        builder.Services.AddValidatedOptions<DkimOptions>(DkimOptions.Section);
        return builder;
    }
}
