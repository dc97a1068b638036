using System.Data;
using System.Globalization;
using Dapper;

namespace PprnetNewsletter.Storage;

/// <summary>
/// Timestamps are stored as fixed-width UTC text ("2026-11-27T17:58:56.1234567Z"), so SQL can compare and
/// sort them as strings. Dapper converts every <see cref="DateTimeOffset"/> parameter and column through this.
/// Use <see cref="DateTimeOffset"/> (from <see cref="TimeProvider"/>) for every timestamp, never DateTime.
/// </summary>
public sealed class SqlTime : SqlMapper.TypeHandler<DateTimeOffset>
{
    const string Format = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public static string ToText(DateTimeOffset value) =>
        value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    public static DateTimeOffset FromText(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public override void SetValue(IDbDataParameter parameter, DateTimeOffset value)
    {
        parameter.DbType = DbType.String;
        parameter.Value = ToText(value);
    }

    public override DateTimeOffset Parse(object value) => FromText((string)value);

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
