namespace PprnetNewsletter.Hosting;

/// <summary>The command line's exit codes (the interface contract).</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int BadInput = 2;
}
