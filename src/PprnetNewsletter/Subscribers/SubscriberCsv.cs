using CsvHelper;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Subscribers;

/// <summary>
/// Subscribers in and out of CSV: header <c>email,name,topics</c> (plus an optional <c>status</c>), topics as
/// slugs or names separated by ';' or the word <c>all</c>. Export writes what import reads, so a list can move
/// between installations. An import is all or nothing: every bad row is reported with its line number and
/// nothing is written until the whole file is good.
/// </summary>
public sealed class SubscriberCsv(SubscriberStore store, TopicChoices topicChoices)
{
    const string EmailColumn = "email";
    const string NameColumn = "name";
    const string TopicsColumn = "topics";
    const string StatusColumn = "status";

    static readonly string[] Columns = [EmailColumn, NameColumn, TopicsColumn, StatusColumn];

    /// <summary>The characters a spreadsheet would run as a formula at the start of a cell; export prefixes them with '.</summary>
    const string FormulaStarts = "=@+-\t\r";

    static readonly CsvReaderOptions ReaderOptions = CsvReaderOptions.Default with
    {
        Separator = ',',
        HasHeader = true,
        TrackLineNumbers = true,
        TrimWhitespace = true,
        SkipEmptyLines = true,
    };

    static readonly CsvWriterOptions WriterOptions = CsvWriterOptions.Default with
    {
        NewLine = "\n",
        Injection = CsvInjection.Escape,
    };

    sealed record Candidate(int Line, NewSubscriber Subscriber);

    /// <summary>
    /// Reads <paramref name="input"/> (UTF-8, a byte order mark is fine) and adds or updates its subscribers in
    /// one transaction. <paramref name="sourceName"/> names the input in messages. Throws a
    /// <see cref="UsageException"/> listing every problem, with nothing written, when any row is bad.
    /// </summary>
    public async Task<ImportCounts> ImportAsync(Stream input, string sourceName, ConsentContext context, CancellationToken ct = default)
    {
        var problems = new List<string>();
        var candidates = new List<Candidate>();
        await using (var csv = CsvReader.Create(input, ReaderOptions with
        {
            OnMalformedRecord = record => problems.Add($"line {record.LineNumber}: badly quoted or broken row ({record.Reason}); quote fields that contain commas with \"...\""),
        }, leaveOpen: true))
        {
            await csv.ReadHeaderAsync(ct);
            // Column names are matched ignoring case and spaces, as spreadsheets write them.
            var headers = csv.Headers.Select(h => h.Trim('\uFEFF', ' ', '\t').ToLowerInvariant()).ToList();
            var missing = new[] { EmailColumn, NameColumn, TopicsColumn }.Where(c => !headers.Contains(c)).ToList();
            if (missing.Count > 0)
            {
                var seen = headers.Count == 0 ? "an empty file" : $"'{string.Join(",", headers)}'";
                throw new UsageException(
                    $"{sourceName}: line 1 must be the header '{EmailColumn},{NameColumn},{TopicsColumn}' (found {seen}; missing: {string.Join(", ", missing)}). Nothing was imported.");
            }
            var columns = Columns.ToDictionary(c => c, headers.IndexOf);
            var firstLineOf = new Dictionary<string, int>(StringComparer.Ordinal);
            // A list repeats the same few topic choices: each distinct text is parsed once per file.
            var parsedTopics = new Dictionary<string, (TopicSelection? Selection, string? Problem)>(StringComparer.Ordinal);
            while (await csv.ReadAsync(ct))
            {
                var line = (int)csv.LineNumber;
                string Field(string column) =>
                    columns[column] is var index && index >= 0 && index < csv.FieldCount ? WithoutFormulaEscape(csv.GetString(index)) : "";

                var rowProblems = new List<string>();
                if (!EmailAddressRules.TryNormalize(Field(EmailColumn), out var email, out var emailProblem))
                {
                    rowProblems.Add($"'{EmailAddressRules.Printable(Field(EmailColumn))}' is not a usable email address: {emailProblem}");
                }
                else if (firstLineOf.TryGetValue(EmailAddressRules.Key(email), out var firstLine))
                {
                    rowProblems.Add($"{email} is already on line {firstLine} (addresses are compared ignoring case)");
                }
                else
                {
                    firstLineOf[EmailAddressRules.Key(email)] = line;
                }
                if (!SubscriberNameRules.TryNormalize(Field(NameColumn), out var name, out var nameProblem))
                {
                    rowProblems.Add(nameProblem);
                }
                var topicsText = Field(TopicsColumn);
                if (!parsedTopics.TryGetValue(topicsText, out var parsed))
                {
                    parsedTopics[topicsText] = parsed = await topicChoices.TryParseAsync(topicsText);
                }
                var (topics, topicsProblem) = parsed;
                if (topicsProblem is not null)
                {
                    rowProblems.Add($"topics: {topicsProblem}");
                }
                var status = Field(StatusColumn).ToLowerInvariant() is { Length: > 0 } given ? given : SubscriberStatus.Confirmed;
                if (!SubscriberStatus.IsKnown(status))
                {
                    rowProblems.Add($"status '{status}' is not one of {string.Join(", ", SubscriberStatus.All)}");
                }
                if (rowProblems.Count > 0)
                {
                    problems.Add($"line {line}: {string.Join("; ", rowProblems)}");
                }
                else
                {
                    candidates.Add(new Candidate(line, new NewSubscriber(email!, name!, topics!, status)));
                }
            }
        }

        var suppressed = await store.FindSuppressedAsync(candidates.Select(c => c.Subscriber.Email), ct);
        foreach (var candidate in candidates.Where(c => suppressed.Contains(c.Subscriber.Email)))
        {
            problems.Add($"line {candidate.Line}: {SubscriberStore.SuppressedMessage(candidate.Subscriber.Email)}");
        }
        if (problems.Count > 0)
        {
            var sorted = problems.OrderBy(LineOf).ToList();
            throw UsageException.From(
                [$"{sourceName}: nothing was imported; fix {(sorted.Count == 1 ? "this row" : $"these {sorted.Count} rows")} and run the import again:", .. sorted.Select(p => "  " + p)]);
        }
        return await store.ImportAsync(candidates.Select(c => c.Subscriber).ToList(), context, ct);
    }

    /// <summary>Writes every subscriber (streamed, in id order) as UTF-8 CSV to <paramref name="output"/>; returns how many.</summary>
    public async Task<int> ExportAsync(Stream output, CancellationToken ct = default)
    {
        await using var csv = CsvWriter.Create(output, WriterOptions, leaveOpen: true);
        return await ExportAsync(csv, ct);
    }

    /// <summary>Writes every subscriber (streamed, in id order) as CSV to <paramref name="output"/>; returns how many.</summary>
    public async Task<int> ExportAsync(TextWriter output, CancellationToken ct = default)
    {
        await using var csv = CsvWriter.Create(output, WriterOptions, leaveOpen: true);
        return await ExportAsync(csv, ct);
    }

    async Task<int> ExportAsync(CsvWriter csv, CancellationToken ct)
    {
        var count = 0;
        csv.WriteHeader(Columns);
        await foreach (var subscriber in store.StreamAllAsync(ct: ct))
        {
            await csv.WriteRecordAsync([subscriber.Email, subscriber.Name, await topicChoices.FormatAsync(subscriber.Topics), subscriber.Status], ct);
            count++;
        }
        await csv.FlushAsync(ct);
        return count;
    }

    /// <summary>Undoes the export's protection against spreadsheet formulas ('=x → =x), so a file round-trips.</summary>
    static string WithoutFormulaEscape(string value) =>
        value.Length > 1 && value[0] == '\'' && FormulaStarts.Contains(value[1]) ? value[1..] : value;

    static int LineOf(string problem) =>
        int.TryParse(problem.AsSpan(5, Math.Max(0, problem.IndexOf(':') - 5)), out var line) ? line : 0;
}
