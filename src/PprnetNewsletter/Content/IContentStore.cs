namespace PprnetNewsletter.Content;

/// <summary>
/// Editions, their summaries and the taxonomy as stored: what the content feature, the archive, the digests and the
/// admin read and write. One implementation per database engine (<see cref="SqliteContentStore"/>,
/// <see cref="PgContentStore"/>); both share <see cref="SqlContentStore"/>.
/// </summary>
public interface IContentStore
{
    /// <summary>The edition of <paramref name="month"/> (YYYY-MM) with its summaries in edition order, or null.</summary>
    Task<Edition?> GetEditionAsync(string month, CancellationToken ct = default);

    /// <summary>Every edition, newest month first, with its status and number of summaries.</summary>
    Task<IReadOnlyList<EditionInfo>> ListEditionsAsync(CancellationToken ct = default);

    Task<int> CountSummariesAsync(CancellationToken ct = default);

    /// <summary>Every topic of the taxonomy (in no particular order).</summary>
    Task<IReadOnlyList<Topic>> TopicsAsync(CancellationToken ct = default);

    /// <summary>
    /// Starts an import: takes the database's write lock on the content (so nothing changes between the checks and the
    /// writes) and reads what is stored. Nothing is written unless <see cref="IImportSession.CommitAsync"/> is called.
    /// </summary>
    Task<IImportSession> BeginImportAsync(CancellationToken ct = default);
}

/// <summary>A summary as stored, with its edition.</summary>
public sealed record StoredSummary(long Id, long EditionId, string EditionStatus, SummaryDraft Content);

/// <summary>One import's transaction: what is stored, and the writes. Disposing without committing writes nothing.</summary>
public interface IImportSession : IAsyncDisposable
{
    /// <summary>Every stored summary by slug.</summary>
    IReadOnlyDictionary<string, StoredSummary> Summaries { get; }

    /// <summary>The status of every existing edition by month.</summary>
    IReadOnlyDictionary<string, string> EditionStatuses { get; }

    /// <summary>
    /// Inserts new summaries and updates stored ones (matched by slug; a changed month moves the summary),
    /// replaces their topics, creates missing editions as drafts, and renumbers every edition touched.
    /// </summary>
    Task SaveAsync(IEnumerable<SummaryDraft> drafts, CancellationToken ct = default);

    Task CommitAsync(CancellationToken ct = default);
}
