using Cogrion.Jobs.Schema;
using Cogrion.Jobs.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace Cogrion.Jobs.Tests;

public sealed class JobSchemaTests
{
    private static async Task<string> EmptyDatabaseAsync()
    {
        var server = await TestPostgres.GetAsync();
        return server.ConnectionString(await server.CreateEmptyDatabaseAsync());
    }

    [Fact]
    public async Task An_empty_database_gets_the_engines_tables_once()
    {
        await using var dataSource = NpgsqlDataSource.Create(await EmptyDatabaseAsync());

        Assert.Equal(JobSchema.Scripts.Count, await JobSchema.ApplyAsync(dataSource, null, CancellationToken.None));
        Assert.Equal(0, await JobSchema.ApplyAsync(dataSource, null, CancellationToken.None));

        await using var connection = await dataSource.OpenConnectionAsync();
        Assert.Equal(JobSchema.CurrentVersion, await connection.ExecuteScalarAsync<int>("select max(version) from job_schema_migrations"));
        Assert.True(await connection.ExecuteScalarAsync<bool>(
            "select to_regclass('jobs') is not null and to_regclass('recurring_jobs') is not null"));
    }

    [Fact]
    public async Task A_database_made_by_the_portals_own_jobs_migration_is_adopted_with_its_jobs_and_keeps_working()
    {
        // Portal databases created before the engine became a library ran the Portal's 0002_jobs.sql.
        var connectionString = await EmptyDatabaseAsync();
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.ExecuteAsync(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "portal-0002_jobs.sql")));
            await connection.ExecuteAsync("insert into jobs (kind, max_attempts, created_by) values ('test.counting', 1, 'system:before')");
        }
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
            await JobSchema.ApplyAsync(dataSource, null, CancellationToken.None);

        var db = new JobTestDatabase { ConnectionString = connectionString };
        Assert.Equal(1, await db.ScalarAsync<long>("select count(*) from jobs where created_by = 'system:before'"));
        Assert.Equal(1, await db.ScalarAsync<long>("select count(*) from pg_trigger where tgname = 'jobs_notify_change'"));
        var run = JobLedger.NewRun();
        await using var host = await JobEngineHost.StartAsync(connectionString);
        var id = await db.EnqueueAsync(new CountingJob(run));
        await db.WaitForStateAsync(id, JobStates.Succeeded);
    }

    [Fact]
    public async Task A_schema_script_edited_after_it_was_applied_is_refused()
    {
        var server = await TestPostgres.GetAsync();
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString(await server.CreateDatabaseAsync()));
        await using (var connection = await dataSource.OpenConnectionAsync())
            await connection.ExecuteAsync("update job_schema_migrations set checksum = 'edited' where version = 1");

        var refused = await Assert.ThrowsAsync<JobSchemaException>(() => JobSchema.ApplyAsync(dataSource, null, CancellationToken.None));

        Assert.Contains("0001_jobs.sql was changed after it was applied", refused.Message);
    }
}
