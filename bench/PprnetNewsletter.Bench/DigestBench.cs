using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using MimeKit;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Hosting;

using System.CommandLine;
using PprnetNewsletter.Digests;

namespace PprnetNewsletter.Bench;

/// <summary>
/// <c>bench digest</c>: selection + render + MIME for one digest, on one thread, in steady state (every
/// variant already rendered and inlined, as for all but the first few recipients of an edition).
/// </summary>
sealed class DigestBench(
    IServiceProvider services, EmailTemplates templates, EditionMessageFactory editions, IContentStore content, TopicCatalog topics,
    MessageAssembly assembly, DkimSigning dkim, TimeProvider time)
{
    /// <summary><c>pprnet-bench digest</c>: the cost of composing one digest in steady state.</summary>
    public static Command Verb(IHost app)
    {
        var iterations = new Option<int>("--iterations") { Description = "Digests to compose per measurement.", DefaultValueFactory = _ => 20_000 };
        var month = new Option<string?>("--month") { Description = "Measure a real edition (YYYY-MM) instead of a sample of three summaries." };
        var command = new Command("digest", "Measure selection + render + MIME for one digest, on one thread.") { iterations, month };
        command.SetAction(async (parsed, ct) =>
        {
            var bench = ActivatorUtilities.CreateInstance<DigestBench>(app.Services);
            foreach (var line in await bench.RunAsync(parsed.GetValue(iterations), parsed.GetValue(month), ct))
            {
                Console.WriteLine(line);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    public async Task<IReadOnlyList<string>> RunAsync(int iterations, string? month, CancellationToken ct)
    {
        if (iterations < 1)
        {
            throw new UsageException("--iterations must be at least 1.");
        }
        var edition = month is null
            ? await SampleEditionAsync()
            : await content.GetEditionAsync(month, ct) ?? throw new UsageException($"There is no edition for {month}: import it first, or omit --month.");

        var started = time.GetTimestamp();
        await templates.CompileAllAsync();
        var compiled = time.GetElapsedTime(started);

        started = time.GetTimestamp();
        var prepared = await editions.PrepareAsync(edition); // renders and inlines the fullest variant
        var prepare = time.GetElapsedTime(started);

        var recipients = Recipients(edition);
        started = time.GetTimestamp();
        foreach (var recipient in recipients)
        {
            prepared.Compose(recipient, 0); // the first reader of each variant renders and inlines it
        }
        var firstUse = time.GetElapsedTime(started);

        var sample = prepared.Compose(recipients[0], 0)!;
        using var serialised = new MemoryStream();
        sample.WriteTo(serialised, ct);

        // Each message is disposed once used, as the sending engine does: its body's buffer goes back to the pool.
        var compose = Measure(iterations, i => prepared.Compose(recipients[i % recipients.Count], 0)!.Dispose());
        // As an SMTP client writes it: CRLF line ends.
        var wire = FormatOptions.Default.Clone();
        wire.NewLineFormat = NewLineFormat.Dos;
        var composeAndWrite = Measure(iterations, i =>
        {
            using var message = prepared.Compose(recipients[i % recipients.Count], 0)!;
            message.WriteTo(wire, Stream.Null, CancellationToken.None);
        });
        // An RSA signature costs far more than the rest: measure it on fewer digests, with a throwaway key when DKIM is off.
        var signed = dkim.Enabled ? prepared : await SignedAsync(edition);
        var composeSigned = Measure(Math.Max(100, iterations / 20), i => signed.Compose(recipients[i % recipients.Count], 0)!.Dispose());

        return
        [
            $"Edition {edition.Month}: {edition.Summaries.Count} summaries; {recipients.Count} readers in rotation; DKIM {(dkim.Enabled ? "on" : "off")}.",
            $"Templates compiled in {compiled.TotalMilliseconds:F0} ms (once per process, at start-up).",
            $"Edition prepared in {prepare.TotalMilliseconds:F1} ms (loads it, renders and inlines the fullest variant); " +
            $"first readers of the other variants: {firstUse.TotalMilliseconds:F1} ms in all.",
            $"Message size: {serialised.Length / 1024.0:F1} KB (HTML part {sample.HtmlBody!.Length / 1024.0:F1} KB before encoding).",
            $"Compose (selection + fill-in + MimeMessage{(dkim.Enabled ? " + DKIM" : "")}): {compose}",
            $"Compose + serialise with CRLF line ends (what the SMTP transport writes): {composeAndWrite}",
            $"Compose with DKIM (RSA-SHA256{(dkim.Enabled ? "" : ", a throwaway 2048-bit key")}): {composeSigned}",
        ];
    }

    async Task<EditionMessages> SignedAsync(Edition edition)
    {
        using var rsa = RSA.Create(2048);
        var signer = DkimSigning.Relaxed(new NativeRsaDkimSigner(rsa.ExportRSAPrivateKeyPem(), assembly.SenderDomain, "bench"));
        var signing = ActivatorUtilities.CreateInstance<MessageAssembly>(services, new DkimSigning(signer));
        return await ActivatorUtilities.CreateInstance<EditionMessageFactory>(services, signing).PrepareAsync(edition);
    }

    static Figures Measure(int iterations, Action<int> compose)
    {
        for (var i = 0; i < Math.Min(iterations, 2_000); i++)
        {
            compose(i); // warm-up: JIT, caches
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var gen0 = GC.CollectionCount(0);
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            compose(i);
        }
        watch.Stop();
        process.Refresh();
        return new Figures(
            watch.Elapsed.TotalMicroseconds / iterations,
            (process.TotalProcessorTime - cpu).TotalMicroseconds / iterations,
            (GC.GetAllocatedBytesForCurrentThread() - allocated) / iterations,
            GC.CollectionCount(0) - gen0,
            iterations);
    }

    // Wall time is what a reader waits for; CPU time (all threads: the GC's too) stays meaningful on a busy machine.
    sealed record Figures(double MicrosecondsEach, double CpuMicrosecondsEach, long BytesEach, int Gen0Collections, int Iterations)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{MicrosecondsEach:F1} µs/digest wall, {CpuMicrosecondsEach:F1} µs CPU, {BytesEach / 1024.0:F1} KB allocated " +
            $"({Iterations:N0} digests, {Gen0Collections} gen0 GCs).");
    }

    /// <summary>Four readers: two topics with a name, one topic without, all topics, three topics.</summary>
    static List<Recipient> Recipients(Edition edition)
    {
        var topicIds = edition.Summaries.SelectMany(s => s.Topics).Select(t => t.Id).Distinct().ToList();
        long Topic(int i) => topicIds.Count == 0 ? 0 : topicIds[i % topicIds.Count];
        return
        [
            new(1001, "ann.smith@example.org", "Dr. Ann Smith", false, [Topic(0), Topic(5)]),
            new(1002, "b.jones@example.org", "", false, [Topic(1)]),
            new(1003, "chloé.tremblay@example.ca", "Chloé Tremblay", true, []),
            new(1004, "d.lee@example.org", "Dana Lee, PhD", false, [Topic(2), Topic(3), Topic(7)]),
        ];
    }

    /// <summary>Three summaries of the blog's usual size (about 2.5 KB of text each, four topics each).</summary>
    async Task<Edition> SampleEditionAsync()
    {
        var all = await topics.AllAsync();
        const string Paragraph = "Clinicians who attend to the alliance early in treatment, and who invite their clients to say " +
            "when something is not working, see fewer drop-outs and better outcomes; the effect held across diagnoses, settings " +
            "and therapist experience, although it was smaller for the most severely distressed clients.";
        var summaries = Enumerable.Range(0, 3).Select(i => new Summary(
            Id: i + 1,
            Slug: $"sample-summary-{i + 1}",
            Position: i + 1,
            Title: $"Sample Summary {i + 1}: What Predicts Outcome in Routine Psychotherapy Practice",
            Citation: "Author, A., Author, B., & Author, C. (2021). A study of routine practice. Journal of Counseling Psychology, 68(6), 705–718.",
            ResearchType: "Quantitative",
            BodyHtml: string.Concat(Enumerable.Repeat($"<p>{Paragraph}</p>\n", 5)) + "<ul><li>First finding (d = 1.47)</li><li>Second finding</li></ul>\n",
            BodyText: string.Join("\n\n", Enumerable.Repeat(Paragraph, 5)) + "\n\n- First finding (d = 1.47)\n- Second finding\n",
            ImplicationsHtml: $"<p>{Paragraph}</p>\n<p>{Paragraph}</p>\n",
            ImplicationsText: $"{Paragraph}\n\n{Paragraph}\n",
            Topics: [.. all.Skip(i * 4).Take(4)])).ToList();
        return new Edition(1, "2023-03", "draft", null, summaries);
    }
}
