using System.Collections.Concurrent;

namespace PprnetNewsletter.Digests;

/// <summary>
/// Something built once per process per folder (compiled templates): every application instance in the process (the
/// service, or the many of the tests) shares it. A failed build is not kept, so the next attempt starts again.
/// </summary>
public sealed class OncePerFolder<T>
{
    readonly ConcurrentDictionary<string, Lazy<Task<T>>> _built = new(StringComparer.Ordinal);

    public async Task<T> GetAsync(string folder, Func<string, Task<T>> build)
    {
        var lazy = _built.GetOrAdd(folder, f => new Lazy<Task<T>>(() => Task.Run(() => build(f))));
        try
        {
            return await lazy.Value;
        }
        catch
        {
            _built.TryRemove(new KeyValuePair<string, Lazy<Task<T>>>(folder, lazy));
            throw;
        }
    }

    /// <summary>Forgets what was built for <paramref name="folder"/>: the next use builds it again, as a new process would.</summary>
    internal void Forget(string folder) => _built.TryRemove(folder, out _);
}
