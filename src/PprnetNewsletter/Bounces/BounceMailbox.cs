using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using PprnetNewsletter.Delivery;

namespace PprnetNewsletter.Bounces;

/// <summary>How many messages one pass of the mailbox found of each kind.</summary>
public sealed record PollCounts(IReadOnlyDictionary<ReportKind, int> ByKind, int Replays, int Errors)
{
    public int Total => ByKind.Values.Sum() + Errors;
}

/// <summary>
/// Reads the bounce mailbox over IMAP (Bounces:Imap:*): each message in the folder is classified, acted on, and
/// moved to <c>Processed</c> (reports, automatic replies) or <c>Unrecognised</c> (everything else), both created when
/// missing. Nothing is ever deleted or marked: mail this reader does not understand is only moved aside, for a person.
/// A message whose handling fails stays where it was and is tried again on the next pass.
/// </summary>
public sealed class BounceMailbox(
    IOptions<BouncesOptions> options, BounceClassifier classifier, BounceHandler handler, ILogger<BounceMailbox> logger)
{
    public const string Channel = "imap";
    public const string ProcessedFolder = "Processed";
    public const string UnrecognisedFolder = "Unrecognised";

    readonly BounceImapOptions _imap = options.Value.Imap;

    public bool Enabled => _imap.Enabled;

    public async Task<PollCounts> PollAsync(CancellationToken ct)
    {
        if (!_imap.Enabled)
        {
            throw new InvalidOperationException("No bounce mailbox is configured: set Bounces:Imap:Host, Username and Password.");
        }
        using var client = new ImapClient { Timeout = (int)_imap.Timeout.TotalMilliseconds };
        await client.ConnectAsync(_imap.Host!, _imap.Port, _imap.Security.ToSocketOptions(), ct);
        await client.AuthenticateAsync(_imap.Username!, _imap.Password ?? "", ct);

        var inbox = await client.GetFolderAsync(_imap.Folder, ct);
        var processed = await FolderAsync(client, ProcessedFolder, ct);
        var unrecognised = await FolderAsync(client, UnrecognisedFolder, ct);
        await inbox.OpenAsync(FolderAccess.ReadWrite, ct);

        var byKind = Enum.GetValues<ReportKind>().ToDictionary(k => k, _ => 0);
        int replays = 0, errors = 0;
        foreach (var uid in await inbox.SearchAsync(SearchQuery.All, ct))
        {
            try
            {
                var (kind, result) = await HandleAsync(inbox, uid, ct);
                await inbox.MoveToAsync(uid, kind == ReportKind.Unrecognised ? unrecognised : processed, ct);
                byKind[kind]++;
                replays += result == HandlingResult.Replay ? 1 : 0;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                errors++;
                logger.LogError(e, "Could not handle message {Uid} of the bounce mailbox {Folder}; it stays there for the next pass", uid, _imap.Folder);
            }
        }
        await client.DisconnectAsync(quit: true, ct);
        return new PollCounts(byKind, replays, errors);
    }

    async Task<(ReportKind Kind, HandlingResult Result)> HandleAsync(IMailFolder inbox, UniqueId uid, CancellationToken ct)
    {
        byte[] raw;
        using (var stream = await inbox.GetStreamAsync(uid, "", ct))
        using (var copy = new MemoryStream())
        {
            await stream.CopyToAsync(copy, ct);
            raw = copy.ToArray();
        }
        using var message = await MimeMessage.LoadAsync(new MemoryStream(raw), ct);
        var classification = classifier.Classify(message);
        if (classification.Kind == ReportKind.Unrecognised)
        {
            return (ReportKind.Unrecognised, HandlingResult.Handled);
        }
        // The Message-ID identifies a report read twice; a report without one is known by its content.
        var eventId = message.MessageId is { Length: > 0 } id
            ? id
            : "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(raw));
        var result = await handler.HandleAsync(new IncomingReport(Channel, eventId, classification, raw), ct);
        return (classification.Kind, result);
    }

    /// <summary>The folder <paramref name="name"/> beside the inbox, in the personal namespace; created when missing.</summary>
    static async Task<IMailFolder> FolderAsync(ImapClient client, string name, CancellationToken ct)
    {
        var root = client.GetFolder(client.PersonalNamespaces[0]);
        try
        {
            return await root.GetSubfolderAsync(name, ct) ?? throw new FolderNotFoundException(name);
        }
        catch (FolderNotFoundException)
        {
            return await root.CreateAsync(name, isMessageFolder: true, ct)
                ?? throw new InvalidOperationException($"The IMAP server did not create the folder {name}.");
        }
    }

}
