using System.Globalization;

namespace PprnetNewsletter.Hosting;

/// <summary>A count with its noun in the right number: "1 summary", "3 summaries", "1,200 subscribers".</summary>
public static class Counted
{
    public static string Of(long n, string one, string? many = null) =>
        string.Create(CultureInfo.InvariantCulture, $"{n:N0} {(n == 1 ? one : many ?? one + "s")}");
}
