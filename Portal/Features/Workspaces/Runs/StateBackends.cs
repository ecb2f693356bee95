using System.Diagnostics;
using System.Text.Json;
using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Workspaces.Runs;

/// <summary>
/// The state backend of each cloud account and region (ADR 0041): before a run's own stages, the first
/// run in an account and region applies terraform/&lt;cloud&gt;/bootstrap with its state in the working
/// directory, then moves that state into the bucket it just created. Runs in other regions, accounts or
/// tenants never wait for each other; two first runs in the same account and region take turns, and
/// the second finds the backend ready.
/// </summary>
public sealed class StateBackends(
    NpgsqlDataSource dataSource,
    TofuRunner runner,
    WorkspaceRunRequests requests,
    AuditLog audit,
    TimeProvider time,
    ILogger<StateBackends> logger)
{
    /// <summary>How often moving the state into the new bucket is tried: it only writes one object, so a failure is most likely a blip.</summary>
    private const int MigrationAttempts = 3;

    private sealed record Row(string Status, string? PendingState);

    /// <summary>
    /// Makes sure the account's state backend in <paramref name="region"/> exists. Succeeds at once when
    /// it does; otherwise creates it, writing its progress to <paramref name="log"/>, and the result's
    /// single timing is the whole <see cref="TofuStage.StateBackend"/> stage. A failure or cancel is
    /// reported at that stage: nothing of the workspace was created.
    /// </summary>
    public async Task<TofuRunResult> EnsureAsync(CloudAccount account, string region, Guid runId, IRunLog log, CancellationToken cancellationToken)
    {
        if (await FindAsync(dataSource, account, region, cancellationToken) is { Status: "ready" })
            return new TofuRunResult { Status = TofuRunStatus.Succeeded, Stage = TofuStage.StateBackend };

        // One creator per account and region, across workers and replicas. A session lock on a
        // connection of its own: it is released explicitly, since a pooled connection outlives us.
        await using var lockConnection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (!await lockConnection.ExecuteScalarAsync<bool>(new CommandDefinition("select pg_try_advisory_lock(hashtextextended(@key, 0))",
                new { key = LockKey(account, region) }, cancellationToken: cancellationToken)))
        {
            // Someone watching this run should know why nothing happens for a minute or two.
            await NoteAsync(log, $"Another run is creating the state backend in {region}; waiting for it.");
            try
            {
                await lockConnection.ExecuteAsync(new CommandDefinition("select pg_advisory_lock(hashtextextended(@key, 0))",
                    new { key = LockKey(account, region) }, cancellationToken: cancellationToken));
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or NpgsqlException)
            {
                return new TofuRunResult
                {
                    Status = TofuRunStatus.Cancelled,
                    Stage = TofuStage.StateBackend,
                    Error = "Cancelled while waiting for the state backend.",
                    WorkspaceState = "Nothing of the workspace was created: the run was still waiting for another run to create the state backend.",
                };
            }
        }
        try
        {
            var row = await FindAsync(lockConnection, account, region, cancellationToken);
            if (row is { Status: "ready" })
            {
                await NoteAsync(log, $"The state backend in {region} was just created by another run; using it.");
                return new TofuRunResult { Status = TofuRunStatus.Succeeded, Stage = TofuStage.StateBackend };
            }
            return await CreateAsync(account, region, runId, row?.PendingState, log, cancellationToken);
        }
        finally
        {
            await lockConnection.ExecuteAsync(new CommandDefinition("select pg_advisory_unlock(hashtextextended(@key, 0))",
                new { key = LockKey(account, region) }, cancellationToken: CancellationToken.None));
        }
    }

    private async Task<TofuRunResult> CreateAsync(CloudAccount account, string region, Guid runId, string? pendingState, IRunLog log,
        CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        var watch = Stopwatch.StartNew();
        var request = requests.StateBackendRequest(account, region, runId);
        var bucket = WorkspaceRunRequests.StateBucket(account, region);
        var localState = Path.Combine(request.WorkingDirectory, WorkspaceRunRequests.StateBackendLocalState);
        try
        {
            Directory.CreateDirectory(request.WorkingDirectory);
            if (pendingState is not null)
            {
                // A previous attempt created part of the backend: start from its state, so this plan
                // adopts what exists and creates only the rest.
                await File.WriteAllTextAsync(localState, pendingState, cancellationToken);
                await NoteAsync(log, $"Finishing the state backend in {region} that an earlier run started ({bucket}).");
            }
            else
            {
                await NoteAsync(log,
                    $"First run in {account.Name} in {region}: creating the state backend ({bucket}), where every workspace there keeps its " +
                    $"OpenTofu state.");
            }

            var applied = await runner.RunAsync(request, log, cancellationToken);
            await KeepProgressAsync(account, region, runId, localState, log);
            if (!applied.Succeeded) return Ended(applied, startedAt, watch, "creating the state backend");

            foreach (var (output, expected) in WorkspaceRunRequests.ExpectedStateBackendOutputs(account, region))
            {
                var actual = applied.Outputs?.Values.GetValueOrDefault(output) is { ValueKind: JsonValueKind.String } value ? value.GetString()
                    : null;
                if (actual != expected)
                    return Failed(startedAt, watch,
                        $"The state backend module's output {output} is {actual ?? "missing"}, but the Portal expects {expected}: the module and " +
                            $"the Portal disagree on a name, so no workspace could find its state. Nothing of the workspace was created.");
            }

            var home = requests.StateBackendHome(account, region);
            TofuRunResult moved = applied;
            for (var attempt = 1; attempt <= MigrationAttempts; attempt++)
            {
                moved = await runner.MigrateStateAsync(request, home, log, cancellationToken);
                if (moved.Succeeded || moved.Status == TofuRunStatus.Cancelled || attempt == MigrationAttempts) break;
                await NoteAsync(log, $"Moving the state backend's own state failed (attempt {attempt} of {MigrationAttempts}); trying again.",
                    RunLogLevel.Warning);
                await Task.Delay(TimeSpan.FromSeconds(2 * attempt), cancellationToken);
            }
            if (!moved.Succeeded) return Ended(moved, startedAt, watch, "moving the state backend's state into its bucket");

            await MarkReadyAsync(account, region, runId, bucket);
            await NoteAsync(log, $"State backend ready: {RootModuleWriter.Describe(home)}.");
            return new TofuRunResult
            {
                Status = TofuRunStatus.Succeeded,
                Stage = TofuStage.StateBackend,
                TofuVersion = applied.TofuVersion,
                Timings = [new TofuStageTiming(TofuStage.StateBackend, startedAt, watch.Elapsed, true)],
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await KeepProgressAsync(account, region, runId, localState, log);
            return Cancelled(startedAt, watch, "Cancelled while creating the state backend.");
        }
        finally
        {
            TofuRunner.DeleteWorkingDirectory(request.WorkingDirectory, logger);
        }
    }

    /// <summary>
    /// Keeps the bootstrap's local state (what it created so far) until the backend is ready, so an
    /// interrupted creation can be finished rather than collide with itself. Refused, with a warning,
    /// if the state marks anything sensitive: no secret value may reach the database.
    /// </summary>
    private async Task KeepProgressAsync(CloudAccount account, string region, Guid runId, string localState, IRunLog log)
    {
        if (!File.Exists(localState)) return;
        var state = await File.ReadAllTextAsync(localState, CancellationToken.None);
        if (string.IsNullOrWhiteSpace(state)) return;
        if (BootstrapState.HoldsSensitiveValues(state))
        {
            await NoteAsync(log, "The state backend's state marks values as sensitive, so the Portal does not keep it; "
                + "a retry cannot adopt what this attempt created.", RunLogLevel.Warning);
            return;
        }
        await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
        var inserted = await connection.ExecuteAsync(new CommandDefinition("""
            insert into state_backends (tenant_id, cloud_account_id, region, bucket, status, pending_state, created_by_run)
            values (@tenantId, @accountId, @region, @bucket, 'creating', @state::jsonb, @runId)
            on conflict (cloud_account_id, region) do update set pending_state = excluded.pending_state
            where state_backends.status = 'creating'
            """, new
        {
            tenantId = account.TenantId,
            accountId = account.Id,
            region,
            bucket = WorkspaceRunRequests.StateBucket(account, region),
            state,
            runId
        },
            transaction));
        if (inserted > 0)
            await audit.RecordAsync(new AuditEntry(Actor.System("provisioning"), "cloud_account.state_backend_progress_kept", account.TenantId,
                "cloud_account", account.Id.ToString(),
                new { region, run = runId }), transaction, CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
    }

    private async Task MarkReadyAsync(CloudAccount account, string region, Guid runId, string bucket)
    {
        await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into state_backends (tenant_id, cloud_account_id, region, bucket, status, created_by_run, ready_at)
            values (@tenantId, @accountId, @region, @bucket, 'ready', @runId, now())
            on conflict (cloud_account_id, region) do update set status = 'ready', pending_state = null, ready_at = now()
            """, new { tenantId = account.TenantId, accountId = account.Id, region, bucket, runId }, transaction));
        await audit.RecordAsync(new AuditEntry(Actor.System("provisioning"), "cloud_account.state_backend_created", account.TenantId, "cloud_account",
            account.Id.ToString(),
            new { region, bucket, run = runId }), transaction, CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
    }

    /// <summary>What the wizard's review says about where a new workspace's state will live, and whether its first run creates that place.</summary>
    public static string ReviewNote(CloudAccount account, string region, IReadOnlyList<StateBackendView> backendsOfAccount)
    {
        if (account.Provider == CloudProvider.Sandbox) return "State: kept by the sandbox simulator (no bucket).";
        var bucket = WorkspaceRunRequests.StateBucket(account, region);
        return backendsOfAccount.Any(b => b.Region == region && b.IsReady)
            ? $"State: in the bucket {bucket}, which this account already has in {region}."
            : $"State: in the bucket {bucket}. This is the account's first workspace in {region}, so the run first creates that bucket (versioned, " +
                $"encrypted, private) in your account.";
    }

    private static async Task<Row?> FindAsync(NpgsqlDataSource dataSource, CloudAccount account, string region, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await FindAsync(connection, account, region, cancellationToken);
    }

    private static Task<Row?> FindAsync(NpgsqlConnection connection, CloudAccount account, string region, CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            "select status, pending_state::text as pending_state from state_backends where tenant_id = @tenantId and cloud_account_id = @accountId " +
                "and region = @region",
            new { tenantId = account.TenantId, accountId = account.Id, region }, cancellationToken: cancellationToken));

    private static string LockKey(CloudAccount account, string region) => $"state-backend:{account.Id}:{region}";

    /// <summary>The bootstrap's failure or cancel, as a failure of the run's first stage: the workspace's own stages never started.</summary>
    private static TofuRunResult Ended(TofuRunResult inner, DateTimeOffset startedAt, Stopwatch watch, string doing)
        => (inner.Status == TofuRunStatus.Cancelled
        ? Cancelled(startedAt, watch, inner.Error ?? "Cancelled while creating the state backend.")
        : Failed(startedAt, watch, $"{Capitalized(doing)} failed: {inner.Error}")) with
        { TofuVersion = inner.TofuVersion };

    private static TofuRunResult Cancelled(DateTimeOffset startedAt, Stopwatch watch, string error) => new()
    {
        Status = TofuRunStatus.Cancelled,
        Stage = TofuStage.StateBackend,
        Error = error,
        WorkspaceState = "Nothing of the workspace was created. The next run finishes the state backend.",
        Timings = [new TofuStageTiming(TofuStage.StateBackend, startedAt, watch.Elapsed, false)],
    };

    private static TofuRunResult Failed(DateTimeOffset startedAt, Stopwatch watch, string error) => new()
    {
        Status = TofuRunStatus.Failed,
        Stage = TofuStage.StateBackend,
        Error = error,
        WorkspaceState = "Nothing of the workspace was created. What the state backend's run created is kept, and the next run finishes it.",
        Timings = [new TofuStageTiming(TofuStage.StateBackend, startedAt, watch.Elapsed, false)],
    };

    private static string Capitalized(string text) => char.ToUpperInvariant(text[0]) + text[1..];

    private ValueTask NoteAsync(IRunLog log, string text, RunLogLevel level = RunLogLevel.Info) =>
        log.WriteAsync(new RunLogLine(time.GetUtcNow(), TofuStage.StateBackend, level, text), CancellationToken.None);
}

/// <summary>Reads an OpenTofu state document (format version 4) just enough to know whether it may be kept.</summary>
public static class BootstrapState
{
    /// <summary>
    /// True when any output is sensitive or any resource instance lists sensitive attributes, or when the
    /// text is not a state document at all (then nothing says it is safe).
    /// </summary>
    public static bool HoldsSensitiveValues(string stateJson)
    {
        try
        {
            using var document = JsonDocument.Parse(stateJson);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("version", out _)) return true;
            if (root.TryGetProperty("outputs", out var outputs) && outputs.ValueKind == JsonValueKind.Object
                && outputs.EnumerateObject().Any(o => o.Value.TryGetProperty("sensitive", out var s) && s.ValueKind == JsonValueKind.True))
                return true;
            if (!root.TryGetProperty("resources", out var resources) || resources.ValueKind != JsonValueKind.Array) return false;
            return resources.EnumerateArray().Any(resource =>
                resource.TryGetProperty("instances", out var instances) && instances.ValueKind == JsonValueKind.Array
                && instances.EnumerateArray().Any(instance =>
                    instance.TryGetProperty("sensitive_attributes", out var sensitive) && sensitive.ValueKind == JsonValueKind.Array
                        && sensitive.GetArrayLength() > 0));
        }
        catch (JsonException)
        {
            return true;
        }
    }
}
