using CsvHelper;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Subscribers;

/// <summary>
/// Subscribers in and out of CSV: header <c>email,name,topics</c> (plus an optional <c>status</c>), topics as
/// slugs or names separated by ';' or the word <c>all</c>. Export writes what import reads, so a list can move
/// between installations. An import is all or nothing: every bad row is reported with its line number and
/// nothing is written until the whole file is good.
/// </summary>
public sealed class SubscriberCsv(ISubscriberStore store, TopicChoices topicChoices)
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

    /// <summary>How many problems a refused import lists; the rest are only counted.</summary>
    public const int MaxListedProblems = 100;

    /// <summary>
    /// The problems of one file: the first <see cref="MaxListedProblems"/> (with their lines) and how many in all.
    /// A file of a million bad rows must not become a message of a million lines.
    /// </summary>
    sealed class Problems
    {
        readonly List<string> _listed = [];

        public int Count { get; private set; }

        public void Add(string problem)
        {
            Count++;
            if (_listed.Count < MaxListedProblems)
            {
                _listed.Add(problem);
            }
        }

        public UsageException ToException(string sourceName)
        {
            var sorted = _listed.OrderBy(LineOf).ToList();
            var what = Count == 1 ? "this row" : Count <= MaxListedProblems ? $"these {Count} rows" : $"these rows ({Count:N0} problems in all; the first {MaxListedProblems} are listed)";
            return UsageException.From([$"{sourceName}: nothing was imported; fix {what} and run the import again:", .. sorted.Select(p => "  " + p)]);
        }
    }

    /// <summary>
    /// Reads <paramref name="input"/> (UTF-8, a byte order mark is fine) as a stream and adds or updates its subscribers
    /// in one transaction. <paramref name="sourceName"/> names the input in messages. Throws a
    /// <see cref="UsageException"/> listing the first <see cref="MaxListedProblems"/> problems and their total, with
    /// nothing written, when any row is bad. From the first bad row on, good rows are only checked, not kept, so a
    /// file that is refused holds no more memory than its first good rows took.
    /// </summary>
    public async Task<ImportCounts> ImportAsync(Stream input, string sourceName, ConsentContext context, CancellationToken ct = default)
    {
        var problems = new Problems();
        var candidates = new List<NewSubscriber>();
        // Erased or unsubscribed-then-deleted addresses are few: their hashes are read once, not per row.
        var suppressed = await store.SuppressionHashesAsync(ct);
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
                var seen = headers.Count == 0 ? "an empty file" : $"'{EmailAddressRules.Printable(string.Join(",", headers))}'";
                throw new UsageException(
                    $"{sourceName}: line 1 must be the header '{EmailColumn},{NameColumn},{TopicsColumn}' (found {seen}; missing: {string.Join(", ", missing)}). Nothing was imported.");
            }
            var columns = Columns.ToDictionary(c => c, headers.IndexOf);
            var firstLineOf = new Dictionary<string, int>(StringComparer.Ordinal);
            // A list repeats the same few topic choices: each distinct text is parsed once per file (up to a bound,
            // so a file of endless distinct bad topics cannot fill the memory with them).
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
                    if (suppressed.Count > 0 && suppressed.Contains(SubscriberStore.SuppressionHash(email)))
                    {
                        rowProblems.Add(SubscriberStore.SuppressedMessage(email));
                    }
                }
                if (!SubscriberNameRules.TryNormalize(Field(NameColumn), out var name, out var nameProblem))
                {
                    rowProblems.Add(nameProblem);
                }
                var topicsText = Field(TopicsColumn);
                if (!parsedTopics.TryGetValue(topicsText, out var parsed))
                {
                    parsed = await topicChoices.TryParseAsync(topicsText);
                    if (parsedTopics.Count < MaxCachedTopicTexts)
                    {
                        parsedTopics[topicsText] = parsed;
                    }
                }
                var (topics, topicsProblem) = parsed;
                if (topicsProblem is not null)
                {
                    rowProblems.Add($"topics: {topicsProblem}");
                }
                var status = Field(StatusColumn).ToLowerInvariant() is { Length: > 0 } given ? given : SubscriberStatus.Confirmed;
                if (!SubscriberStatus.IsKnown(status))
                {
                    rowProblems.Add($"status '{EmailAddressRules.Printable(status)}' is not one of {string.Join(", ", SubscriberStatus.All)}");
                }
                if (rowProblems.Count > 0)
                {
                    problems.Add($"line {line}: {string.Join("; ", rowProblems)}");
                    candidates.Clear();
                }
                else if (problems.Count == 0)
                {
                    candidates.Add(new NewSubscriber(email!, name!, topics!, status));
                }
            }
        }

        if (problems.Count > 0)
        {
            throw problems.ToException(sourceName);
        }
        return await store.ImportAsync(candidates, context, ct);
    }

    /// <summary>Distinct topic texts parsed once per file; past this many, each further one is parsed on every row.</summary>
    const int MaxCachedTopicTexts = 1000;

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
