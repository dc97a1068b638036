using Microsoft.Extensions.Options;
using MimeKit;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Delivery;

/// <summary>
/// Writes each message as one .eml file, named after its Message-ID. Written to a temporary name and then
/// renamed, so a reader of the folder (or a crash) never sees half a message.
/// </summary>
public sealed class PickupDirectoryTransport : IMailTransport
{
    public PickupDirectoryTransport(IOptions<DeliveryOptions> options, IHostEnvironment environment)
    {
        Directory = AppHome.Resolve(environment.ContentRootPath, options.Value.PickupDirectory);
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public DeliveryReceipt Send(MimeMessage message, CancellationToken ct)
    {
        var name = FileNameFor(message);
        var final = Path.Combine(Directory, name + ".eml");
        var temp = Path.Combine(Directory, "." + name + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 16 * 1024))
            {
                message.WriteTo(FormatOptions.Default, stream, ct);
            }
            File.Move(temp, final, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        return new DeliveryReceipt($"written to {final}");
    }

    // A local file of a few dozen kilobytes: asynchronous file I/O would only add a hop through the thread pool.
    public Task<DeliveryReceipt> SendAsync(MimeMessage message, CancellationToken ct) => Task.FromResult(Send(message, ct));

    public string Describe() => $"pickup directory {Directory} (no Smtp:Host set)";

    /// <summary>A file name from the Message-ID, with anything a file system might mind replaced.</summary>
    static string FileNameFor(MimeMessage message)
    {
        var id = string.IsNullOrEmpty(message.MessageId) ? Guid.NewGuid().ToString("N") : message.MessageId;
        var chars = id.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '@' or '+' ? c : '_').ToArray();
        return new string(chars);
    }
}
