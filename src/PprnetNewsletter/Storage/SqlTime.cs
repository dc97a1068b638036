using System.Data;
using System.Globalization;
using Dapper;

namespace PprnetNewsletter.Storage;

/// <summary>
/// In SQLite, timestamps are stored as fixed-width UTC text ("2026-11-27T17:58:56.1234567Z"), so SQL can compare and
/// sort them as strings. Dapper converts every <see cref="DateTimeOffset"/> parameter and column through this.
/// Use <see cref="DateTimeOffset"/> (from <see cref="TimeProvider"/>) for every timestamp, never DateTime.
/// In PostgreSQL they are real timestamps (timestamptz): a parameter bound for Npgsql goes through as a UTC
/// timestamp, and a timestamptz column (read back as a UTC DateTime) becomes a DateTimeOffset.
/// </summary>
public sealed class SqlTime : SqlMapper.TypeHandler<DateTimeOffset>
{
    // The round-trip format of a UTC time is exactly yyyy-MM-ddTHH:mm:ss.fffffffZ, and .NET formats it without
    // interpreting a pattern: the ledger writes several timestamps for every message sent.
    const string Format = "O";

    /// <summary>The length of every timestamp as text.</summary>
    public const int Length = 28;

    public static string ToText(DateTimeOffset value) =>
        value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    /// <summary>Writes <paramref name="value"/> as UTF-8 text into <paramref name="utf8"/> (<see cref="Length"/> octets); returns the octets written.</summary>
    public static int ToUtf8(DateTimeOffset value, Span<byte> utf8) =>
        value.UtcDateTime.TryFormat(utf8, out var written, Format, CultureInfo.InvariantCulture)
            ? written
            : throw new ArgumentException($"A timestamp needs {Length} octets.", nameof(utf8));

    public static DateTimeOffset FromText(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public override void SetValue(IDbDataParameter parameter, DateTimeOffset value)
    {
        // Asked of SQLite's parameter, not Npgsql's: a send on SQLite then never loads Npgsql (~1 MB resident).
        if (parameter is Microsoft.Data.Sqlite.SqliteParameter)
        {
            parameter.DbType = DbType.String;
            parameter.Value = ToText(value);
            return;
        }
        // Npgsql writes a DateTimeOffset with offset zero as timestamptz.
        parameter.DbType = DbType.DateTimeOffset;
        parameter.Value = value.ToUniversalTime();
    }

    public override DateTimeOffset Parse(object value) => value switch
    {
        string text => FromText(text),
        DateTime utc => new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)),
        DateTimeOffset offset => offset.ToUniversalTime(),
        _ => throw new InvalidCastException($"A timestamp cannot be read from a {value.GetType().Name}."),
    };

    static int _registered;

    /// <summary>Registers the handler with Dapper once per process.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            // Dapper's built-in map for DateTimeOffset wins over a handler for parameters (it would write
            // "2026-11-27 17:58:56.1234567+00:00", which compares wrongly with this format): remove it first.
            SqlMapper.RemoveTypeMap(typeof(DateTimeOffset));
            SqlMapper.RemoveTypeMap(typeof(DateTimeOffset?));
            SqlMapper.AddTypeHandler(new SqlTime());
        }
    }
}
