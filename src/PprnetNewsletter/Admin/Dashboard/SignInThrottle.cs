using Microsoft.Extensions.Options;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>
/// Counts failed sign-ins per account and per client address; after <see cref="DashboardOptions.MaxSignInFailures"/>
/// within the window, that key is locked out for <see cref="DashboardOptions.Lockout"/>. Counting per account stops a
/// guesser who rotates addresses; counting per address stops one who tries many accounts. Unknown accounts count
/// like known ones, so the lockout tells nothing about which accounts exist. Kept in memory: a restart forgives.
/// </summary>
public sealed class SignInThrottle(TimeProvider time, IOptions<DashboardOptions> options)
{
    sealed class Entry
    {
        public Queue<DateTimeOffset> Failures { get; } = new();

        public DateTimeOffset LockedUntil { get; set; }
    }

    readonly Lock _gate = new();
    readonly Dictionary<string, Entry> _entries = new(StringComparer.OrdinalIgnoreCase);

    public static string AccountKey(string email) => "account:" + email.Trim();

    public static string AddressKey(string? address) => "address:" + (address ?? "unknown");

    /// <summary>How long until every one of <paramref name="keys"/> may try again; null when none is locked.</summary>
    public TimeSpan? LockedFor(params string[] keys)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            var until = keys.Select(k => _entries.GetValueOrDefault(k)?.LockedUntil ?? default).Max();
            return until > now ? until - now : null;
        }
    }

    public void Failed(params string[] keys)
    {
        var now = time.GetUtcNow();
        var o = options.Value;
        lock (_gate)
        {
            Forget(now, o);
            foreach (var key in keys)
            {
                if (!_entries.TryGetValue(key, out var entry))
                {
                    _entries[key] = entry = new Entry();
                }
                entry.Failures.Enqueue(now);
                while (entry.Failures.Peek() <= now - o.FailureWindow)
                {
                    entry.Failures.Dequeue();
                }
                if (entry.Failures.Count >= o.MaxSignInFailures)
                {
                    entry.LockedUntil = now + o.Lockout;
                    entry.Failures.Clear();
                }
            }
        }
    }

    /// <summary>A good password clears the account's count (not the address's: a shared office address keeps its own).</summary>
    public void Succeeded(string accountKey)
    {
        lock (_gate)
        {
            _entries.Remove(accountKey);
        }
    }

    /// <summary>Drops keys with nothing recent, so a stream of made-up account names cannot grow the table without end.</summary>
    void Forget(DateTimeOffset now, DashboardOptions o)
    {
        foreach (var (key, entry) in _entries)
        {
            if (entry.LockedUntil <= now && (entry.Failures.Count == 0 || entry.Failures.Last() <= now - o.FailureWindow))
            {
                _entries.Remove(key);
            }
        }
    }
}
