using System.Text;
using Microsoft.Data.Sqlite;

namespace PprnetNewsletter.Tests.Support;

/// <summary>
/// Everything the application stores about people and content, as one comparable text: each table's row count
/// and every row. Taken before and after a refused request, the two must be equal.
/// </summary>
public static class StoredState
{
    static readonly string[] Tables =
    [
        "subscribers", "subscriber_topics", "consent_events", "suppressions", "confirmation_tokens",
        "editions", "summaries", "summary_topics", "deliveries",
    ];

    public static string Read(TestApp test)
    {
        using var connection = new SqliteConnection($"Data Source={test.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        var state = new StringBuilder();
        foreach (var table in Tables)
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT * FROM {table} ORDER BY rowid";
            using var reader = command.ExecuteReader();
            var rows = 0;
            var content = new StringBuilder();
            while (reader.Read())
            {
                rows++;
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    content.Append(reader.IsDBNull(i) ? "∅" : reader.GetValue(i)).Append('|');
                }
                content.Append('\n');
            }
            state.Append($"{table}: {rows} rows\n").Append(content);
        }
        return state.ToString();
    }
}
