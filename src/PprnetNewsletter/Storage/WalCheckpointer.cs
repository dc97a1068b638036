using Microsoft.Data.Sqlite;

namespace PprnetNewsletter.Storage;

/// <summary>
/// Copies the write-ahead log into the database file on a connection and a thread of its own, for a connection that
/// commits many small transactions in a row (a send's outcome writer).
/// </summary>
/// <remarks>
/// <para>Left to SQLite, the copy (a checkpoint) runs inside the commit that takes the log past 1,000 pages, and
/// syncs the log and the database file: ~7 ms here, tens of milliseconds on a slower disk. A send's outcome writer
/// was held that long several times a second, and once the writer is behind, the connections wait for their
/// unsettled slots. SQLite lets any connection run the copy while others commit (a passive checkpoint waits for
/// nobody), so this one does, a little after each commit; a commit that still reaches SQLite's threshold finds
/// little left to copy (in a 100,000 send the commits' time in checkpoints fell from ~0.6 s to ~0.25 s, and the
/// connections' waits for unsettled slots from ~1.3 s to ~0.15 s).</para>
/// <para>SQLite's own checkpoint stays on as the backstop: a pass that fails or falls behind leaves the pages in the
/// log, where the next pass or the committing connection copies them.</para>
/// </remarks>
sealed class WalCheckpointer : IDisposable
{
    /// <summary>
    /// At most one pass per this long: the commits in between are copied together (one sync for all of them, and
    /// the pages they share copied once).
    /// </summary>
    static readonly TimeSpan Spacing = TimeSpan.FromMilliseconds(25);

    readonly SqliteConnection _connection;
    readonly SqliteCommand _checkpoint;
    readonly AutoResetEvent _due = new(false);
    readonly ManualResetEvent _stop = new(false);
    readonly Thread _thread;

    public WalCheckpointer(Db db)
    {
        _connection = db.Open();
        _checkpoint = _connection.CreateCommand();
        _checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        // A thread of its own rather than the pool's: it sleeps between passes and blocks in file I/O during them.
        _thread = new Thread(Run) { IsBackground = true, Name = "SQLite log checkpoint" };
        _thread.Start();
    }

    /// <summary>Says that a transaction was committed: a pass follows within <see cref="Spacing"/>.</summary>
    public void Committed() => _due.Set();

    void Run()
    {
        WaitHandle[] wake = [_stop, _due];
        while (WaitHandle.WaitAny(wake) == 1)
        {
            try
            {
                _checkpoint.ExecuteNonQuery();
            }
            catch (SqliteException)
            {
                // Busy or failing (another process copying, a full disk): the pages stay in the log for the next pass or
                // for SQLite's own checkpoint, and the commits that matter report their own errors.
            }
            if (_stop.WaitOne(Spacing))
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        _stop.Set();
        _thread.Join();
        _checkpoint.Dispose();
        _connection.Dispose();
        _due.Dispose();
        _stop.Dispose();
    }
}
