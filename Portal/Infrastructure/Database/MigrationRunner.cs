using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Cogrion.Jobs.Schema;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Infrastructure.Database;

/// <summary>One numbered SQL file embedded in the Portal (Database/Migrations/NNNN_name.sql).</summary>
public sealed record MigrationScript(int Version, string Name, string Sql)
{
    public string Checksum { get; } = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));

    private const string ResourcePrefix = "Migrations.";

    public static IReadOnlyList<MigrationScript> LoadEmbedded(Assembly? assembly = null)
    {
        assembly ??= typeof(MigrationScript).Assembly;
        var scripts = new List<MigrationScript>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            var name = resource[ResourcePrefix.Length..];
            var underscore = name.IndexOf('_');
            if (underscore <= 0 || !int.TryParse(name[..underscore], out var version))
                throw new MigrationException($"Migration file '{name}' must be named NNNN_description.sql.");
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            scripts.Add(new MigrationScript(version, name, reader.ReadToEnd()));
        }
        var duplicate = scripts.GroupBy(s => s.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new MigrationException($"Two migrations share version {duplicate.Key}: {string.Join(", ", duplicate.Select(s => s.Name))}.");
        return scripts.OrderBy(s => s.Version).ToList();
    }
}

public sealed class MigrationException(string message, Exception? inner = null) : Exception(message, inner);

public sealed record MigrationReport(int AppliedNow, int CurrentVersion);

/// <summary>
/// Applies pending migrations in order, each in its own transaction, recorded in <c>schema_migrations</c>.
/// A session-level advisory lock makes replicas that start together take turns: the second one
/// waits, then finds nothing left to do. The job engine's schema comes first: it is a library of
/// its own with its own history (<see cref="JobSchema"/>), and the Portal's tables may refer to it.
/// </summary>
public sealed class MigrationRunner(NpgsqlDataSource dataSource, ILogger<MigrationRunner> logger)
{
    /// <summary>"cogrion" in ASCII; any constant works as long as every replica uses the same one.</summary>
    internal const long AdvisoryLockKey = 0x636f6772696f6e;

    private sealed record Applied(int Version, string Name, string Checksum);

    /// <summary>
    /// Migrations that moved out of the Portal. A database that applied one keeps its row in
    /// <c>schema_migrations</c>; this build knows where the file went instead of calling the database
    /// newer than itself. 0002_jobs.sql is now the job engine's Schema/0001_jobs.sql, which adopts the
    /// tables 0002 created as they are.
    /// </summary>
    internal static readonly IReadOnlyDictionary<int, string> MovedOut = new Dictionary<int, string>
    {
        [2] = "0002_jobs.sql",
    };

    /// <summary>The job engine's schema, then the Portal's migrations.</summary>
    public async Task<MigrationReport> ApplyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await JobSchema.ApplyAsync(dataSource, logger, cancellationToken);
        }
        catch (JobSchemaException ex)
        {
            throw new MigrationException(ex.Message, ex);
        }
        return await ApplyAsync(MigrationScript.LoadEmbedded(), cancellationToken);
    }

    public async Task<MigrationReport> ApplyAsync(IReadOnlyList<MigrationScript> scripts, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_lock(@key)", new { key = AdvisoryLockKey },
            cancellationToken: cancellationToken));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                create table if not exists schema_migrations (
                    version    integer primary key,
                    name       text not null,
                    checksum   text not null,
                    applied_at timestamptz not null default now()
                )
                """, cancellationToken: cancellationToken));

            var applied = (await connection.QueryAsync<Applied>(new CommandDefinition(
                "select version, name, checksum from schema_migrations order by version", cancellationToken: cancellationToken)))
                .ToDictionary(a => a.Version);

            foreach (var script in scripts.Where(s => applied.ContainsKey(s.Version)))
            {
                if (applied[script.Version].Checksum != script.Checksum)
                    throw new MigrationException(
                        $"Migration {script.Name} was changed after it was applied (checksum differs). " +
                        "Applied migrations are history: add a new numbered file instead of editing an old one.");
            }

            var unknown = applied.Keys.Except(scripts.Select(s => s.Version))
                .Where(v => !(MovedOut.TryGetValue(v, out var name) && applied[v].Name == name)).ToList();
            if (unknown.Count > 0)
                throw new MigrationException(
                    $"The database has migration(s) {string.Join(", ", unknown.Select(v => applied[v].Name))} " +
                    "that this Portal build does not know. " +
                    "It is older than the schema: deploy the newer build.");

            var pending = scripts.Where(s => !applied.ContainsKey(s.Version)).ToList();
            foreach (var script in pending)
            {
                await ApplyOneAsync(connection, script, cancellationToken);
            }
            var current = scripts.Count == 0 ? 0 : scripts[^1].Version;
            return new MigrationReport(pending.Count, current);
        }
        finally
        {
            // Unlock even when cancelled: the pooled connection would otherwise keep the lock.
            await connection.ExecuteAsync("select pg_advisory_unlock(@key)", new { key = AdvisoryLockKey });
        }
    }

    private async Task ApplyOneAsync(NpgsqlConnection connection, MigrationScript script, CancellationToken cancellationToken)
    {
        logger.LogInformation("Applying migration {Migration}", script.Name);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(script.Sql, transaction: transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "insert into schema_migrations (version, name, checksum) values (@Version, @Name, @Checksum)",
                script, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
        }
        catch (PostgresException ex)
        {
            var where = ex.Position > 0 ? $" at character {ex.Position}" : "";
            throw new MigrationException($"Migration {script.Name} failed{where}: {ex.MessageText} (SQLSTATE {ex.SqlState}). Nothing of it was " +
                $"applied.", ex);
        }
    }
}
