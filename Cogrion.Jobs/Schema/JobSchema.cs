using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Cogrion.Jobs.Schema;

/// <summary>One numbered SQL file of the engine's schema (Schema/NNNN_name.sql, embedded).</summary>
public sealed record JobSchemaScript(int Version, string Name, string Sql)
{
    public string Checksum { get; } = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));
}

/// <summary>A schema the engine cannot work with: an applied script was edited, or the database is newer than this build.</summary>
public sealed class JobSchemaException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The engine's tables, with a history of their own (<c>job_schema_migrations</c>) so the engine
/// can be used, and tested, without its host's migrations. A host with migrations of its own
/// applies this first (its tables may refer to the engine's); a host without lets the engine do it
/// at start-up (<see cref="JobEngineSetup.SchemaReady"/>). Replicas that start together take turns
/// under an advisory lock; each script runs in its own transaction.
/// </summary>
public static class JobSchema
{
    /// <summary>"cogjobs" in ASCII: not the host's own migration lock, so the two never wait for each other.</summary>
    private const long AdvisoryLockKey = 0x636f676a6f6273;

    private const string ResourcePrefix = "Cogrion.Jobs.Schema.";

    private sealed record Applied(int Version, string Name, string Checksum);

    /// <summary>The scripts of this build, in order.</summary>
    public static IReadOnlyList<JobSchemaScript> Scripts { get; } = Load();

    /// <summary>The version this build needs.</summary>
    public static int CurrentVersion => Scripts[^1].Version;

    /// <summary>Applies what is missing; returns how many scripts ran now.</summary>
    public static async Task<int> ApplyAsync(NpgsqlDataSource dataSource, ILogger? logger, CancellationToken cancellationToken)
    {
        logger ??= NullLogger.Instance;
        DapperSetup.EnsureRegistered();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_lock(@key)", new { key = AdvisoryLockKey },
            cancellationToken: cancellationToken));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                create table if not exists job_schema_migrations (
                    version    integer primary key,
                    name       text not null,
                    checksum   text not null,
                    applied_at timestamptz not null default now()
                )
                """, cancellationToken: cancellationToken));
            var applied = (await connection.QueryAsync<Applied>(new CommandDefinition(
                "select version, name, checksum from job_schema_migrations", cancellationToken: cancellationToken))).ToDictionary(a => a.Version);

            foreach (var script in Scripts.Where(s => applied.TryGetValue(s.Version, out var a) && a.Checksum != s.Checksum))
                throw new JobSchemaException($"The job engine's schema script {script.Name} was changed after it was applied: add a new script " +
                    $"instead.");
            if (applied.Keys.Except(Scripts.Select(s => s.Version)).ToList() is { Count: > 0 } unknown)
                throw new JobSchemaException(
                    $"The database has job engine schema version(s) {string.Join(", ", unknown)} that this build does not know: deploy the newer " +
                        $"build.");

            var pending = Scripts.Where(s => !applied.ContainsKey(s.Version)).ToList();
            foreach (var script in pending)
            {
                logger.LogInformation("Applying the job engine's schema script {Script}", script.Name);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                try
                {
                    await connection.ExecuteAsync(new CommandDefinition(script.Sql, transaction: transaction, cancellationToken: cancellationToken));
                    await connection.ExecuteAsync(new CommandDefinition(
                        "insert into job_schema_migrations (version, name, checksum) values (@Version, @Name, @Checksum)",
                        script, transaction, cancellationToken: cancellationToken));
                    await transaction.CommitAsync(cancellationToken);
                }
                catch (PostgresException ex)
                {
                    throw new JobSchemaException($"The job engine's schema script {script.Name} failed: {ex.MessageText} (SQLSTATE {ex.SqlState}). " +
                        $"Nothing of it was applied.", ex);
                }
            }
            return pending.Count;
        }
        finally
        {
            // Unlock even when cancelled: the pooled connection would otherwise keep the lock.
            await connection.ExecuteAsync("select pg_advisory_unlock(@key)", new { key = AdvisoryLockKey });
        }
    }

    private static List<JobSchemaScript> Load()
    {
        var assembly = typeof(JobSchema).Assembly;
        var scripts = new List<JobSchemaScript>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            var name = resource[ResourcePrefix.Length..];
            var underscore = name.IndexOf('_');
            if (underscore <= 0 || !int.TryParse(name[..underscore], out var version))
                throw new JobSchemaException($"Schema script '{name}' must be named NNNN_description.sql.");
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            scripts.Add(new JobSchemaScript(version, name, reader.ReadToEnd()));
        }
        return scripts.OrderBy(s => s.Version).ToList();
    }
}
