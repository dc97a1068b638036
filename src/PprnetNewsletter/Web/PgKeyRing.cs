using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection.Repositories;
using PprnetNewsletter.Storage.Postgres;

namespace PprnetNewsletter.Web;

/// <summary>
/// The data-protection key ring in the PostgreSQL database (table data_protection_keys), so every instance of the
/// service protects and reads antiforgery tokens with the same keys. ASP.NET Core reads the whole ring at start and
/// when it meets a key it does not know, and writes a key when it creates one (every 90 days by default).
/// </summary>
public sealed class PgKeyRing(PgDb db) : IXmlRepository
{
    // IXmlRepository is synchronous by contract; these calls are rare (start, key creation, an unknown key), and the
    // service has no synchronisation context that waiting on them could deadlock.
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var connection = db.OpenAsync().GetAwaiter().GetResult();
        return [.. connection.Query<string>("SELECT xml FROM data_protection_keys ORDER BY id").Select(xml => XElement.Parse(xml))];
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var connection = db.OpenAsync().GetAwaiter().GetResult();
        connection.Execute("INSERT INTO data_protection_keys (friendly_name, xml) VALUES (@friendlyName, @xml)",
            new { friendlyName, xml = element.ToString(SaveOptions.DisableFormatting) });
    }
}
