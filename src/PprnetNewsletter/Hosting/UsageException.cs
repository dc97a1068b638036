namespace PprnetNewsletter.Hosting;

/// <summary>
/// Bad input from the person at the keyboard (or the API caller): the message says what was wrong and how
/// to fix it. The command line turns it into exit code 2; the web turns it into a 400.
/// </summary>
public sealed class UsageException(string message) : Exception(message)
{
    public static UsageException From(IEnumerable<string> problems) =>
        new(string.Join(Environment.NewLine, problems));
}
