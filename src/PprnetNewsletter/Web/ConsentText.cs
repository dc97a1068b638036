namespace PprnetNewsletter.Web;

/// <summary>
/// The consent wording shown on the subscribe form, and its version, stored on every consent event the web
/// records (CASL, GDPR: what exactly did this person agree to?). Change the wording → change the version.
/// </summary>
public static class ConsentText
{
    public const string Version = "2025-01";

    public const string Wording =
        "I agree to receive the PPRNet Research Digest by email: one message a month with summaries of " +
        "psychotherapy research on the topics I choose. I can change my topics, pause or unsubscribe at any " +
        "time from the link in every email.";
}
