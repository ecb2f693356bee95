using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Cogrion.Portal.Tests.Database;

public sealed class MigrationTests
{
    private static MigrationRunner RunnerFor(NpgsqlDataSource dataSource) => new(dataSource, NullLogger<MigrationRunner>.Instance);

    private static async Task<(PostgresServer Server, NpgsqlDataSource DataSource)> EmptyDatabaseAsync()
    {
        var server = await PostgresServer.GetAsync();
        var name = await server.CreateEmptyDatabaseAsync("mig");
        return (server, NpgsqlDataSource.Create(server.ConnectionString(name)));
    }

    [Fact]
    public async Task Applies_every_embedded_migration_to_an_empty_database()
    {
        var (_, dataSource) = await EmptyDatabaseAsync();
        await using var ownedDataSource = dataSource;
        var scripts = MigrationScript.LoadEmbedded(typeof(MigrationRunner).Assembly);

        var report = await RunnerFor(dataSource).ApplyAsync(CancellationToken.None);

        Assert.Equal(scripts.Count, report.AppliedNow);
        await using var connection = await dataSource.OpenConnectionAsync();
        var recorded = (await connection.QueryAsync<int>("select version from schema_migrations order by version")).ToList();
        Assert.Equal(scripts.Select(s => s.Version), recorded);
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("select count(*) from information_schema.tables where table_name = 'audit_events'"));
    }

    [Fact]
    public async Task Applying_again_changes_nothing()
    {
        var (_, dataSource) = await EmptyDatabaseAsync();
        await using var ownedDataSource = dataSource;
        await RunnerFor(dataSource).ApplyAsync(CancellationToken.None);

        var second = await RunnerFor(dataSource).ApplyAsync(CancellationToken.None);

        Assert.Equal(0, second.AppliedNow);
    }

    [Fact]
    public async Task A_database_from_before_the_job_engine_had_its_own_schema_upgrades_and_keeps_its_jobs()
    {
        // What tools/start.sh left in .local before: the Portal's migrations with 0002_jobs.sql among them.
        var (_, dataSource) = await EmptyDatabaseAsync();
        await using var ownedDataSource = dataSource;
        var old0002 = new MigrationScript(2, "0002_jobs.sql",
            await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "portal-0002_jobs.sql")));
        var before = MigrationScript.LoadEmbedded(typeof(MigrationRunner).Assembly).Append(old0002).OrderBy(s => s.Version).ToList();
        await RunnerFor(dataSource).ApplyAsync(before, CancellationToken.None);
        await using (var connection = await dataSource.OpenConnectionAsync())
            await connection.ExecuteAsync("insert into jobs (kind, max_attempts, created_by) values ('diagnostics.echo', 1, 'user:before')");

        var report = await RunnerFor(dataSource).ApplyAsync(CancellationToken.None);

        Assert.Equal(0, report.AppliedNow);
        await using var check = await dataSource.OpenConnectionAsync();
        Assert.Equal("0002_jobs.sql", await check.ExecuteScalarAsync<string>("select name from schema_migrations where version = 2"));
        Assert.Equal(1, await check.ExecuteScalarAsync<int>("select count(*) from job_schema_migrations"));
        Assert.Equal(1, await check.ExecuteScalarAsync<long>("select count(*) from jobs where created_by = 'user:before'"));
    }

    [Fact]
    public async Task Two_runners_starting_together_apply_each_migration_once()
    {
        var (server, dataSource) = await EmptyDatabaseAsync();
        await using var ownedDataSource = dataSource;
        // A second data source stands in for a second replica: its own connections, its own session lock.
        await using var other = NpgsqlDataSource.Create(dataSource.ConnectionString);

        var reports = await Task.WhenAll(
            RunnerFor(dataSource).ApplyAsync(CancellationToken.None),
            RunnerFor(other).ApplyAsync(CancellationToken.None));

        var scripts = MigrationScript.LoadEmbedded(typeof(MigrationRunner).Assembly);
        Assert.Equal(scripts.Count, reports.Sum(r => r.AppliedNow));
        await using var connection = await dataSource.OpenConnectionAsync();
        Assert.Equal(scripts.Count, await connection.ExecuteScalarAsync<int>("select count(*) from schema_migrations"));
    }

    [Fact]
    public async Task A_failing_migration_names_the_file_and_leaves_nothing_of_itself()
    {
        var (_, dataSource) = await EmptyDatabaseAsync();
        await using var ownedDataSource = dataSource;
        var broken = new List<MigrationScript>
        {
            new(1, "0001_fine.sql", "create table fine (id int)"),
            new(2, "0002_broken.sql", "create table half_made (id int); select * from no_such_table"),
        };

        var error = await Assert.ThrowsAsync<MigrationException>(() => RunnerFor(dataSource).ApplyAsync(broken, CancellationToken.None));

        Assert.Contains("0002_broken.sql", error.Message);
        Assert.Contains("no_such_table", error.Message);
        await using var connection = await dataSource.OpenConnectionAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("select count(*) from schema_migrations"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("select count(*) from information_schema.tables where table_name = 'half_made'"));
    }

    [Fact]
    public async Task An_edited_migration_that_was_already_applied_is_refused()
    {
        var (_, dataSource) = await EmptyDatabaseAsync();
        await using var ownedDataSource = dataSource;
        await RunnerFor(dataSource).ApplyAsync([new(1, "0001_a.sql", "create table a (id int)")], CancellationToken.None);

        var error = await Assert.ThrowsAsync<MigrationException>(() =>
            RunnerFor(dataSource).ApplyAsync([new(1, "0001_a.sql", "create table a (id bigint)")], CancellationToken.None));

        Assert.Contains("was changed after it was applied", error.Message);
    }
}
