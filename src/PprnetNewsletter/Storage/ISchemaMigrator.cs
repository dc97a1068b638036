namespace PprnetNewsletter.Storage;

/// <summary>Brings the database's schema up to date; each engine has its own ordered, versioned scripts.</summary>
public interface ISchemaMigrator
{
    /// <summary>Applies every script not applied yet, each once, even when several processes start together; returns how many ran.</summary>
    Task<int> MigrateAsync(CancellationToken ct = default);
}
