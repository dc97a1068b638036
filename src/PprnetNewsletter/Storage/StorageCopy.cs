using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using PprnetNewsletter.Hosting;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Storage;

/// <summary>
/// Copies the SQLite database into an empty PostgreSQL database: the list moves to PostgreSQL with its whole history.
/// Every table of the SQLite file is carried over with its ids unchanged (a table PostgreSQL does not have stops the
/// copy rather than being left behind). The source is read in one snapshot, the target written in one transaction,
/// and the counts of every table and a fingerprint of the consent ledger are compared before that transaction
/// commits: a copy that does not match leaves the target as empty as it was.
/// </summary>
public sealed class StorageCopy(Db source, ILoggerFactory loggers)
{
    /// <summary>Tables each engine keeps for itself: the migrations' record, and SQLite's id high-water mark (a sequence in PostgreSQL).</summary>
    static readonly HashSet<string> EngineTables = new(StringComparer.Ordinal) { "schema_version", "subscriber_id_watermark" };

    public sealed record TableCount(string Table, long Source, long Target);

    public async Task<IReadOnlyList<TableCount>> CopyAsync(string targetConnectionString, Action<string> progress, CancellationToken ct)
    {
        await using var target = new PgDb(Options.Create(new StorageOptions { Provider = StorageProvider.Postgres, ConnectionString = targetConnectionString }));
        progress($"Copying {source.Path} into the {target.Describe()}");
        await new PgMigrator(target, loggers.CreateLogger<PgMigrator>()).MigrateAsync(ct);

        await using var from = await source.OpenAsync(ct);
        // One read transaction: under WAL it sees one snapshot, however long the copy takes.
        await using var snapshot = from.BeginTransaction(deferred: true);
        var tables = await SourceTablesAsync(from, snapshot);

        await using var to = await target.OpenAsync(ct);
        await using var tx = await to.BeginTransactionAsync(ct);
        var targetColumns = await TargetColumnsAsync(to, tx);
        foreach (var table in tables)
        {
            if (!targetColumns.TryGetValue(table.Name, out var columns))
            {
                throw new InvalidOperationException($"The PostgreSQL schema has no table {table.Name}: this version of pprnet cannot copy it. Nothing was copied.");
            }
            var missing = table.Columns.Where(c => !columns.ContainsKey(c)).ToList();
            if (missing.Count > 0)
            {
                throw new InvalidOperationException($"The PostgreSQL table {table.Name} has no column {string.Join(", ", missing)}. Nothing was copied.");
            }
        }
        await RefuseUnlessEmptyAsync(to, tx, tables);

        // The migration seeds the taxonomy; the source's own rows (with their ids) replace it.
        await to.ExecuteAsync("DELETE FROM topics", transaction: tx);
        foreach (var table in tables)
        {
            var copied = await CopyTableAsync(from, snapshot, to, table, targetColumns[table.Name], progress, ct);
            progress($"  {table.Name,-24} {copied,12:N0} rows");
        }
        await MoveSequencesAsync(from, snapshot, to, tx, targetColumns);

        var counts = new List<TableCount>();
        foreach (var table in tables)
        {
            counts.Add(new TableCount(table.Name,
                await from.ExecuteScalarAsync<long>($"SELECT count(*) FROM \"{table.Name}\"", transaction: snapshot),
                await to.ExecuteScalarAsync<long>($"SELECT count(*) FROM \"{table.Name}\"", transaction: tx)));
        }
        var wrong = counts.Where(c => c.Source != c.Target).ToList();
        if (wrong.Count > 0)
        {
            throw new InvalidOperationException("The copy does not match, so it was rolled back: " +
                string.Join("; ", wrong.Select(c => $"{c.Table} has {c.Source:N0} rows in SQLite and {c.Target:N0} in PostgreSQL")));
        }
        if (tables.Any(t => t.Name == "consent_events")
            && await LedgerFingerprintAsync(from, snapshot) is var expected
            && await LedgerFingerprintAsync(to, tx) is var actual
            && expected != actual)
        {
            throw new InvalidOperationException("The consent ledger differs after the copy, so it was rolled back.");
        }
        await tx.CommitAsync(ct);
        return counts;
    }

    sealed record SourceTable(string Name, IReadOnlyList<string> Columns, IReadOnlyList<string> References);

    /// <summary>Every table of the SQLite file, parents before the tables whose foreign keys name them.</summary>
    static async Task<List<SourceTable>> SourceTablesAsync(SqliteConnection connection, SqliteTransaction tx)
    {
        var names = await connection.QueryAsync<string>(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name", transaction: tx);
        var tables = new Dictionary<string, SourceTable>(StringComparer.Ordinal);
        foreach (var name in names.Where(n => !EngineTables.Contains(n)))
        {
            var columns = (await connection.QueryAsync<string>($"SELECT name FROM pragma_table_info('{name}') ORDER BY cid", transaction: tx)).ToList();
            var references = (await connection.QueryAsync<string>($"SELECT DISTINCT \"table\" FROM pragma_foreign_key_list('{name}')", transaction: tx)).ToList();
            tables[name] = new SourceTable(name, columns, references);
        }
        var ordered = new List<SourceTable>();
        var placed = new HashSet<string>(StringComparer.Ordinal);
        void Place(SourceTable table, int depth)
        {
            if (placed.Contains(table.Name) || depth > tables.Count)
            {
                return;
            }
            foreach (var parent in table.References.Where(r => r != table.Name && tables.ContainsKey(r)))
            {
                Place(tables[parent], depth + 1);
            }
            if (placed.Add(table.Name))
            {
                ordered.Add(table);
            }
        }
        foreach (var table in tables.Values)
        {
            Place(table, 0);
        }
        return ordered;
    }

    sealed record TargetColumn(string DataType, bool IsIdentity);

    static async Task<Dictionary<string, Dictionary<string, TargetColumn>>> TargetColumnsAsync(NpgsqlConnection connection, NpgsqlTransaction tx)
    {
        var rows = await connection.QueryAsync<(string Table, string Column, string DataType, string IsIdentity)>("""
            SELECT table_name, column_name, data_type, is_identity
            FROM information_schema.columns
            WHERE table_schema = current_schema()
            """, transaction: tx);
        return rows.GroupBy(r => r.Table, StringComparer.Ordinal).ToDictionary(
            g => g.Key,
            g => g.ToDictionary(r => r.Column, r => new TargetColumn(r.DataType, r.IsIdentity == "YES"), StringComparer.Ordinal),
            StringComparer.Ordinal);
    }

    static async Task RefuseUnlessEmptyAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IEnumerable<SourceTable> tables)
    {
        foreach (var table in tables.Where(t => t.Name != "topics"))
        {
            var rows = await connection.ExecuteScalarAsync<long>($"SELECT count(*) FROM \"{table.Name}\"", transaction: tx);
            if (rows > 0)
            {
                throw new UsageException($"The target database is not empty ({table.Name} has {rows:N0} rows): storage copy only fills a new, " +
                    "empty database, so that nothing there is mixed with the copy. Create one (e.g. createdb -O pprnet pprnet_new) and copy into it.");
            }
        }
    }

    /// <summary>Streams one table through PostgreSQL's binary COPY, converting SQLite's text timestamps and 0/1 flags to their PostgreSQL types.</summary>
    static async Task<long> CopyTableAsync(SqliteConnection from, SqliteTransaction snapshot, NpgsqlConnection to, SourceTable table,
        Dictionary<string, TargetColumn> targetColumns, Action<string> progress, CancellationToken ct)
    {
        var columns = table.Columns;
        var types = columns.Select(c => targetColumns[c].DataType).ToArray();
        var list = string.Join(", ", columns.Select(c => $"\"{c}\""));
        await using var command = from.CreateCommand();
        command.Transaction = snapshot;
        command.CommandText = $"SELECT {list} FROM \"{table.Name}\"";
        await using var reader = await command.ExecuteReaderAsync(ct);
        await using var writer = await to.BeginBinaryImportAsync($"COPY \"{table.Name}\" ({list}) FROM STDIN (FORMAT BINARY)", ct);
        long rows = 0;
        while (await reader.ReadAsync(ct))
        {
            await writer.StartRowAsync(ct);
            for (var i = 0; i < columns.Count; i++)
            {
                if (reader.IsDBNull(i))
                {
                    await writer.WriteNullAsync(ct);
                    continue;
                }
                await WriteValueAsync(writer, reader.GetValue(i), types[i], table.Name, columns[i], ct);
            }
            if (++rows % 100_000 == 0)
            {
                progress($"  {table.Name,-24} {rows,12:N0} rows so far");
            }
        }
        await writer.CompleteAsync(ct);
        return rows;
    }

    static Task WriteValueAsync(NpgsqlBinaryImporter writer, object value, string dataType, string table, string column, CancellationToken ct) => dataType switch
    {
        "timestamp with time zone" => writer.WriteAsync(value is string text ? SqlTime.FromText(text) : throw Unexpected(value, table, column), NpgsqlDbType.TimestampTz, ct),
        "boolean" => writer.WriteAsync(Convert.ToInt64(value, CultureInfo.InvariantCulture) != 0, NpgsqlDbType.Boolean, ct),
        "bigint" => writer.WriteAsync(Convert.ToInt64(value, CultureInfo.InvariantCulture), NpgsqlDbType.Bigint, ct),
        "integer" => writer.WriteAsync(Convert.ToInt32(value, CultureInfo.InvariantCulture), NpgsqlDbType.Integer, ct),
        "text" => writer.WriteAsync(value as string ?? Convert.ToString(value, CultureInfo.InvariantCulture)!, NpgsqlDbType.Text, ct),
        "bytea" => writer.WriteAsync(value as byte[] ?? Encoding.UTF8.GetBytes((string)value), NpgsqlDbType.Bytea, ct),
        _ => throw new InvalidOperationException($"{table}.{column} has the PostgreSQL type {dataType}, which storage copy does not convert to. Nothing was copied."),
    };

    static InvalidOperationException Unexpected(object value, string table, string column) =>
        new($"{table}.{column} holds a {value.GetType().Name} where a timestamp (text) was expected. Nothing was copied.");

    /// <summary>
    /// Moves each identity sequence past the highest id copied, so the next row gets a new id. Subscribers' ids go past
    /// SQLite's high-water mark too: an id once given to a deleted person is never given again.
    /// </summary>
    static async Task MoveSequencesAsync(SqliteConnection from, SqliteTransaction snapshot, NpgsqlConnection to, NpgsqlTransaction tx,
        Dictionary<string, Dictionary<string, TargetColumn>> targetColumns)
    {
        var watermark = await from.ExecuteScalarAsync<long?>(
            "SELECT high FROM subscriber_id_watermark WHERE only_row = 1", transaction: snapshot) ?? 0;
        foreach (var (table, columns) in targetColumns)
        {
            if (!columns.TryGetValue("id", out var id) || !id.IsIdentity)
            {
                continue;
            }
            var floor = table == "subscribers" ? watermark : 0;
            await to.ExecuteAsync($"""
                SELECT setval(pg_get_serial_sequence('"{table}"', 'id'), greatest(coalesce((SELECT max(id) FROM "{table}"), 0), @floor) + 1, false)
                """, new { floor }, tx);
        }
    }

    /// <summary>A SHA-256 over every consent event (timestamps to the microsecond, PostgreSQL's precision), in id order.</summary>
    static async Task<string> LedgerFingerprintAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction tx)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var reader = await connection.ExecuteReaderAsync(
            "SELECT id, subscriber_id, event, source, occurred_at, ip, user_agent, consent_version, detail FROM consent_events ORDER BY id",
            transaction: tx);
        var parse = reader.GetRowParser<ConsentRow>();
        while (await reader.ReadAsync())
        {
            var r = parse(reader);
            var micros = r.Occurred_At.UtcTicks / 10;
            hash.AppendData(Encoding.UTF8.GetBytes(string.Join('\u001f', r.Id, r.Subscriber_Id, r.Event, r.Source, micros, r.Ip, r.User_Agent, r.Consent_Version, r.Detail) + "\u001e"));
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    sealed record ConsentRow(long Id, long? Subscriber_Id, string Event, string Source, DateTimeOffset Occurred_At, string? Ip, string? User_Agent, string? Consent_Version, string? Detail);
}
