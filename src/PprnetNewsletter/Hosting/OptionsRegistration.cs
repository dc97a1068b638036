using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace PprnetNewsletter.Hosting;

public static class OptionsRegistration
{
    /// <summary>
    /// Binds a configuration section to <typeparamref name="T"/> and validates it (data annotations, plus
    /// <see cref="IValidatableObject"/>) when the service starts, so a bad value stops start-up instead of
    /// failing on the first email.
    /// </summary>
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services, string section)
        where T : class =>
        services.AddOptions<T>().BindConfiguration(section).ValidateDataAnnotations().ValidateOnStart();
}
