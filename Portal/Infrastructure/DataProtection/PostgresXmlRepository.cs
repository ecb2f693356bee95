using System.Xml.Linq;
using Cogrion.Portal.Infrastructure.Database;
using Dapper;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;

namespace Cogrion.Portal.Infrastructure.DataProtection;

/// <summary>
/// The Data Protection key ring in PostgreSQL, so every replica protects and unprotects with the
/// same keys: a cookie issued by one is read by another, and what one stored protected (sessions,
/// the command-signing key) every other can read. The framework calls this synchronously and
/// rarely (on start, when a key is created, and about once a day); it never deletes keys.
/// What arrives here was already encrypted by the key encryptor (<see cref="AesGcmXmlEncryptor"/>
/// or the certificate encryptor), so the table alone unprotects nothing.
/// </summary>
public sealed class PostgresXmlRepository(IServiceProvider services, MigrationStatus migrations, ILogger<PostgresXmlRepository> logger)
    : IXmlRepository
{
    // Resolved at first use, not when the framework builds its key manager: that happens while the
    // host is built, before start-up validation could list a bad database setting as a clear problem.
    private NpgsqlDataSource DataSource => services.GetRequiredService<NpgsqlDataSource>();

    // The key ring is first read while the host starts, possibly before the schema exists; the
    // migration service usually needs well under a second. Past this the read fails (and is retried
    // by the framework on the next use) rather than holding start-up hostage.
    private static readonly TimeSpan SchemaWait = TimeSpan.FromSeconds(30);

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        WaitForSchema();
        using var connection = DataSource.OpenConnection();
        var rows = connection.Query<string>("select xml from data_protection_keys order by id");
        return rows.Select(XElement.Parse).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        WaitForSchema();
        using var connection = DataSource.OpenConnection();
        // The framework names each key "key-<guid>": a name seen before means this key is already stored.
        var inserted = connection.Execute(
            "insert into data_protection_keys (friendly_name, xml) values (@friendlyName, @xml) on conflict (friendly_name) do nothing",
            new { friendlyName, xml = element.ToString(SaveOptions.DisableFormatting) });
        logger.LogInformation("Stored Data Protection key {Name} in the shared key ring ({Inserted} row)", friendlyName, inserted);
    }

    private void WaitForSchema()
    {
        try
        {
            if (!migrations.WaitUntilAppliedAsync(CancellationToken.None).Wait(SchemaWait))
                throw new InvalidOperationException("The database schema is not ready yet, so the Data Protection key ring cannot be read.");
        }
        catch (AggregateException ex) when (ex.InnerException is MigrationException migration)
        {
            throw new InvalidOperationException("The Data Protection key ring cannot be read: the database schema failed to migrate.", migration);
        }
    }
}
