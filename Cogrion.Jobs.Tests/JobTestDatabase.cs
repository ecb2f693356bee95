using Cogrion.Jobs.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace Cogrion.Jobs.Tests;

/// <summary>A database of the test's own with the engine's schema, and reads of the job tables for assertions.</summary>
public sealed class JobTestDatabase
{
    public required string ConnectionString { get; init; }

    public static async Task<JobTestDatabase> CreateAsync()
    {
        var server = await TestPostgres.GetAsync();
        return new JobTestDatabase { ConnectionString = server.ConnectionString(await server.CreateDatabaseAsync()) };
    }

    public static readonly EnqueueOptions ByTest = new() { CreatedBy = "system:test" };

    public async Task<long> EnqueueAsync<TArguments>(TArguments arguments, EnqueueOptions? options = null) where TArguments : IJobArguments
    {
        await using var dataSource = NpgsqlDataSource.Create(ConnectionString);
        return await new JobQueue(TestRedactor.Instance).EnqueueAsync(dataSource, arguments, options ?? ByTest, CancellationToken.None);
    }

    public sealed record JobRow(long Id, string Kind, string State, int Attempt, int MaxAttempts, string? WorkerId, string? LastError,
        string? LastErrorStack, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, DateTimeOffset RunAfter);

    public sealed record AttemptRow(long JobId, int Attempt, string? WorkerId, DateTimeOffset? StartedAt, DateTimeOffset FinishedAt, string Outcome,
        string? Error, string? StackTrace);

    public async Task<JobRow> JobAsync(long id)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        return await connection.QuerySingleAsync<JobRow>(
            "select id, kind, state, attempt, max_attempts, worker_id, last_error, last_error_stack, started_at, finished_at, run_after from jobs " +
                "where id = @id", new { id });
    }

    public async Task<IReadOnlyList<JobRow>> JobsAsync(string kind)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        return (await connection.QueryAsync<JobRow>(
            "select id, kind, state, attempt, max_attempts, worker_id, last_error, last_error_stack, started_at, finished_at, run_after from jobs " +
                "where kind = @kind order by id", new { kind })).ToList();
    }

    public async Task<IReadOnlyList<AttemptRow>> AttemptsAsync(long jobId)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        return (await connection.QueryAsync<AttemptRow>(
            "select job_id, attempt, worker_id, started_at, finished_at, outcome, error, stack_trace from job_attempts where job_id = @jobId order " +
                "by id", new { jobId })).ToList();
    }

    public async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        return await connection.ExecuteScalarAsync<T>(sql, parameters) ?? throw new InvalidOperationException("No value.");
    }

    public async Task ExecuteAsync(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.ExecuteAsync(sql, parameters);
    }

    public Task<JobRow> WaitForStateAsync(long id, string state, TimeSpan? deadline = null) =>
        Eventually.ValueAsync(() => JobAsync(id), j => j.State == state, $"job {id} to be {state}", deadline);
}
