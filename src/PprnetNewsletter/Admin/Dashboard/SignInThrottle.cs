using Microsoft.Extensions.Options;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>
/// Counts failed sign-ins per account and per client address; after <see cref="DashboardOptions.MaxSignInFailures"/>
/// within the window, that key is locked out for <see cref="DashboardOptions.Lockout"/>. Counting per account stops a
/// guesser who rotates addresses; counting per address stops one who tries many accounts. Unknown accounts count
/// like known ones, so the lockout tells nothing about which accounts exist. Kept in memory: a restart forgives.
/// An attempt is begun (<see cref="Begin"/>) before its password is checked and ended by <see cref="Failed"/>,
/// <see cref="Succeeded"/> or <see cref="Abandoned"/>: attempts still being checked count against the limit, so guesses
/// sent all at once get no more checks than guesses sent one after another.
/// </summary>
public sealed class SignInThrottle(TimeProvider time, IOptions<DashboardOptions> options)
{
    sealed class Entry
    {
        public Queue<DateTimeOffset> Failures { get; } = new();

        public DateTimeOffset LockedUntil { get; set; }

        /// <summary>Attempts begun and not yet ended: their passwords are being checked.</summary>
        public int Checking { get; set; }
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

    /// <summary>
    /// Begins an attempt for <paramref name="keys"/>: null when its password may be checked, else how long to wait. A key
    /// is refused while locked, and while its recent failures and the attempts still being checked reach the limit
    /// (those checks are about to lock it, so the wait is the whole lockout).
    /// </summary>
    public TimeSpan? Begin(params string[] keys)
    {
        var now = time.GetUtcNow();
        var o = options.Value;
        lock (_gate)
        {
            Forget(now, o);
            var entries = keys.Select(Get).ToList();
            var until = entries.Max(e => e.LockedUntil);
            if (until > now)
            {
                return until - now;
            }
            if (entries.Any(e => Recent(e, now, o) + e.Checking >= o.MaxSignInFailures))
            {
                return o.Lockout;
            }
            foreach (var entry in entries)
            {
                entry.Checking++;
            }
            return null;
        }
    }

    /// <summary>Ends an attempt begun without an answer (the client left): it counts neither way.</summary>
    public void Abandoned(params string[] keys)
    {
        lock (_gate)
        {
            foreach (var key in keys)
            {
                EndCheck(Get(key));
            }
        }
    }

    /// <summary>Ends an attempt with a wrong password (or records one on its own): it counts towards the lockout.</summary>
    public void Failed(params string[] keys)
    {
        var now = time.GetUtcNow();
        var o = options.Value;
        lock (_gate)
        {
            Forget(now, o);
            foreach (var key in keys)
            {
                var entry = Get(key);
                EndCheck(entry);
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

    /// <summary>
    /// Ends an attempt with the right password: it clears the account's count (not the address's: a shared office
    /// address keeps its own).
    /// </summary>
    public void Succeeded(string accountKey, string addressKey)
    {
        lock (_gate)
        {
            _entries.Remove(accountKey);
            EndCheck(Get(addressKey));
        }
    }

    Entry Get(string key)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            _entries[key] = entry = new Entry();
        }
        return entry;
    }

    static void EndCheck(Entry entry) => entry.Checking = Math.Max(0, entry.Checking - 1);

    static int Recent(Entry entry, DateTimeOffset now, DashboardOptions o) => entry.Failures.Count(at => at > now - o.FailureWindow);

    /// <summary>Drops keys with nothing recent, so a stream of made-up account names cannot grow the table without end.</summary>
    void Forget(DateTimeOffset now, DashboardOptions o)
    {
        foreach (var (key, entry) in _entries)
        {
            if (entry.LockedUntil <= now && entry.Checking == 0 && (entry.Failures.Count == 0 || entry.Failures.Last() <= now - o.FailureWindow))
            {
                _entries.Remove(key);
            }
        }
    }
}
