using MimeKit;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Digests;

/// <summary>What <c>digest preview</c> did: the message (null when nothing matched), the files, and lines for the operator.</summary>
public sealed record PreviewOutcome(MimeMessage? Message, IReadOnlyList<string> Files, IReadOnlyList<string> Report);

/// <summary>
/// <c>digest preview YYYY-MM --email EMAIL</c>: one subscriber's digest, composed by the same code the sending
/// engine uses, written as EMAIL.eml, EMAIL.html and EMAIL.txt. Any subscriber can be previewed whatever their
/// status; the report says when they would not receive it.
/// </summary>
public sealed class DigestPreview(EditionMessageFactory editions, ISubscriberStore subscribers)
{
    public async Task<PreviewOutcome> WriteAsync(string month, string email, string folder, CancellationToken ct = default)
    {
        if (!MonthNames.TryParse(month, out _))
        {
            throw new UsageException($"'{month}' is not a month: write it as YYYY-MM, e.g. 2023-03.");
        }
        var subscriber = await subscribers.FindByEmailAsync(email, ct)
            ?? throw new UsageException($"No subscriber has the address '{email}'. Check the spelling, or add them with 'pprnet subscribers add'.");
        var prepared = await editions.PrepareAsync(month, ct)
            ?? throw new UsageException($"There is no edition for {month}: import its summaries first with 'pprnet import PATH'.");

        var report = new List<string>();
        if (!DigestSelection.IsEligible(subscriber))
        {
            report.Add($"Note: {subscriber.Email} is {subscriber.Status}, so they would not receive this edition. Previewing anyway.");
        }
        var recipient = new Recipient(subscriber.Id, subscriber.Email, subscriber.Name, subscriber.AllTopics, subscriber.TopicIds);
        var message = prepared.Compose(recipient, resendCount: 0);
        if (message is null)
        {
            report.Add($"{subscriber.Email} has no summary on their topics in {prepared.Edition.MonthName}: no digest would be sent " +
                "(Digest:SendWhenNoMatch sends a short note instead). Nothing written.");
            return new PreviewOutcome(null, [], report);
        }

        Directory.CreateDirectory(folder);
        var stem = Path.Combine(folder, SafeFileName(subscriber.Email));
        var files = new[] { stem + ".eml", stem + ".html", stem + ".txt" };
        await WriteAtomicallyAsync(files[0], stream => message.WriteToAsync(FormatOptions.Default, stream, ct), ct);
        await WriteAtomicallyAsync(files[1], stream => WriteTextAsync(stream, message.HtmlBody ?? "", ct), ct);
        await WriteAtomicallyAsync(files[2], stream => WriteTextAsync(stream, message.TextBody ?? "", ct), ct);

        report.Add($"Subject: {message.Subject}");
        report.AddRange(files.Select(f => $"Wrote {f}"));
        return new PreviewOutcome(message, files, report);
    }

    static async Task WriteTextAsync(Stream stream, string text, CancellationToken ct)
    {
        await using var writer = new StreamWriter(stream, leaveOpen: true);
        await writer.WriteAsync(text.AsMemory(), ct);
    }

    /// <summary>Written to a temporary file and moved into place, so a failure leaves nothing half-written.</summary>
    static async Task WriteAtomicallyAsync(string path, Func<Stream, Task> write, CancellationToken ct)
    {
        var temporary = path + ".tmp";
        try
        {
            await using (var stream = File.Create(temporary))
            {
                await write(stream);
                await stream.FlushAsync(ct);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>An address as a file name: characters that are not safe in a path become '_'.</summary>
    static string SafeFileName(string email) =>
        string.Concat(email.Select(c => char.IsAsciiLetterOrDigit(c) || c is '@' or '.' or '-' or '_' or '+' ? c : '_'));
}
