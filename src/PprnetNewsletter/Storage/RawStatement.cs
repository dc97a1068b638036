using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace PprnetNewsletter.Storage;

/// <summary>
/// One SQL statement prepared once on a connection and run many times, its parameters bound by position straight
/// into SQLite. For the few statements run for every message sent: Microsoft.Data.Sqlite looks every parameter up by
/// name and converts it through a binder object on each run, which cost as much as SQLite's own work on the row.
/// Everything else goes through Dapper.
/// </summary>
sealed class RawStatement : IDisposable
{
    /// <summary>Values up to this size are converted to UTF-8 on the stack.</summary>
    const int StackBytes = 512;

    readonly sqlite3 _db;
    readonly sqlite3_stmt _statement;

    public RawStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        Check(raw.sqlite3_prepare_v2(_db, sql, out _statement));
    }

    /// <summary>
    /// The position of the parameter named <paramref name="name"/> (with its '@') for the Bind methods, or 0 when the
    /// statement has none (SQLite's own answer).
    /// </summary>
    public int IndexOf(string name) => raw.sqlite3_bind_parameter_index(_statement, name);

    public void Bind(int index, long? value) => Check(value is { } v ? raw.sqlite3_bind_int64(_statement, index, v) : raw.sqlite3_bind_null(_statement, index));

    public void Bind(int index, string? value)
    {
        if (value is null)
        {
            Check(raw.sqlite3_bind_null(_statement, index));
            return;
        }
        var most = Encoding.UTF8.GetMaxByteCount(value.Length);
        var utf8 = most <= StackBytes ? stackalloc byte[most] : new byte[most];
        // SQLite copies the text (SQLITE_TRANSIENT): the buffer may go once the call returns.
        Check(raw.sqlite3_bind_text(_statement, index, utf8[..Encoding.UTF8.GetBytes(value, utf8)]));
    }

    /// <summary>A timestamp in <see cref="SqlTime"/>'s format, formatted without a string in between.</summary>
    public void Bind(int index, DateTimeOffset? value)
    {
        if (value is not { } at)
        {
            Check(raw.sqlite3_bind_null(_statement, index));
            return;
        }
        Span<byte> utf8 = stackalloc byte[SqlTime.Length];
        Check(raw.sqlite3_bind_text(_statement, index, utf8[..SqlTime.ToUtf8(at, utf8)]));
    }

    /// <summary>Runs the statement to its end (it returns no rows) and makes it ready for the next run.</summary>
    public void Execute()
    {
        var rc = raw.sqlite3_step(_statement);
        try
        {
            if (rc != raw.SQLITE_DONE)
            {
                // Before the reset, which would leave another message behind.
                SqliteException.ThrowExceptionForRC(rc, _db);
            }
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }

    public void Dispose() => _statement.Dispose();
}
