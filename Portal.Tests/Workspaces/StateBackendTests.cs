using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// The state backend of a cloud account and region (ADR 0041), on the sandbox: the first run there
/// creates it through the same runner and the real tofu-sandbox, moves its own state into it, and
/// every later run in that account and region finds it ready.
/// </summary>
public sealed class StateBackendTests : IAsyncLifetime
{
    private WorkspaceWorld world = null!;

    public async Task InitializeAsync() => world = await WorkspaceWorld.StartAsync(runWorkers: true);

    public async Task DisposeAsync() => await world.DisposeAsync();

    private async Task<Workspace> CreateAsync(Guid tenant, Guid account, string name, string cidr, string region = "sandbox-local-1")
    {
        var created = await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(account, name, cidr, region, ApprovalMode.Automatic),
            WorkspaceWorld.Operator, default);
        Assert.True(created.Succeeded, string.Join("; ", created.Errors.ToDictionary().Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
        return created.Value!;
    }

    private Task<Workspace> StatusAsync(Guid tenant, string name, WorkspaceStatus status) => world.WorkspaceWithStatusAsync(tenant, name, status);

    private async Task<(WorkspaceRun Run, string Log)> OnlyRunAsync(Guid tenant, Workspace workspace)
    {
        var run = Assert.Single(await world.Store.RunsAsync(tenant, workspace.Id, 10, default));
        return (run, await world.RunLogAsync(run));
    }

    [Fact]
    public async Task The_first_run_in_an_account_and_region_creates_the_state_backend_and_later_runs_use_it()
    {
        var tenant = await world.NewTenantAsync("backend-once");
        var account = await world.NewAccountAsync(tenant);

        // Both queued at once: whichever plans first creates the backend, the other waits for it.
        var first = await CreateAsync(tenant, account, "lake", "10.40.0.0/16");
        var second = await CreateAsync(tenant, account, "river", "10.41.0.0/16");
        await StatusAsync(tenant, "lake", WorkspaceStatus.Ready);
        await StatusAsync(tenant, "river", WorkspaceStatus.Ready);

        var runs = new[] { await OnlyRunAsync(tenant, first), await OnlyRunAsync(tenant, second) };
        var creator = Assert.Single(runs, r => r.Log.Contains("First run in", StringComparison.Ordinal));
        Assert.Contains(creator.Run.StageTimings, t => t.Stage == "StateBackend" && t.Succeeded);
        Assert.Contains("Moving the state to", creator.Log);
        Assert.Contains("State backend ready", creator.Log);

        await using var connection = await world.OpenAsync();
        var backend = await connection.QuerySingleAsync<(string Status, string? PendingState, string Bucket)>(
            "select status, pending_state::text, bucket from state_backends where cloud_account_id = @account and region = 'sandbox-local-1'",
                new { account });
        Assert.Equal("ready", backend.Status);
        Assert.Null(backend.PendingState);
        Assert.StartsWith("cogrion-tfstate-", backend.Bucket);
        Assert.Equal(1, await world.CountAsync(
            "select count(*) from audit_events where action = 'cloud_account.state_backend_created' and target_id = @account",
                new { account = account.ToString() }));

        // The backend's own state lives where the sandbox keeps the "bucket", not in a run's directory.
        var accountRef = await world.ScalarAsync<string>("select account_ref from cloud_accounts where id = @account", new { account });
        Assert.True(File.Exists(Path.Combine(world.StateRoot, "backends", $"{accountRef}-sandbox-local-1", "terraform.tfstate")));
        // The account's page lists it, and only for its own tenant.
        var listed = Assert.Single(await world.Get<StateBackendViews>().ListAsync(tenant, account, default));
        Assert.Equal(("sandbox-local-1", backend.Bucket, true), (listed.Region, listed.Bucket, listed.IsReady));
        Assert.Empty(await world.Get<StateBackendViews>().ListAsync(await world.NewTenantAsync("backend-other"), account, default));

        var workingDirectories = Path.Combine(world.WorkRoot, "state-backends");
        Assert.Empty(Directory.Exists(workingDirectories) ? Directory.EnumerateFiles(workingDirectories, "*", SearchOption.AllDirectories) : []);
    }

    [Fact]
    public async Task Another_region_of_the_same_account_gets_a_state_backend_of_its_own()
    {
        var tenant = await world.NewTenantAsync("backend-regions");
        var account = await world.NewAccountAsync(tenant);

        await CreateAsync(tenant, account, "lake", "10.40.0.0/16", region: "sandbox-local-1");
        await StatusAsync(tenant, "lake", WorkspaceStatus.Ready);
        var other = await CreateAsync(tenant, account, "fjord", "10.40.0.0/16", region: "sandbox-local-2");
        await StatusAsync(tenant, "fjord", WorkspaceStatus.Ready);

        Assert.Contains("First run in", (await OnlyRunAsync(tenant, other)).Log);
        Assert.Equal(2,
            await world.CountAsync("select count(*) from state_backends where cloud_account_id = @account and status = 'ready'", new { account }));
    }

    [Fact]
    public async Task A_failed_state_backend_keeps_what_it_created_and_the_retry_finishes_it_instead_of_starting_over()
    {
        var tenant = await world.NewTenantAsync("backend-retry");
        // The simulator fails the bucket's creation for a session whose name says fail-bootstrap; the
        // state backend's session names the cloud account.
        var account = await world.NewAccountAsync(tenant, name: "fail-bootstrap-demo");
        var workspace = await CreateAsync(tenant, account, "lake", "10.40.0.0/16");

        await StatusAsync(tenant, "lake", WorkspaceStatus.Failed);
        var (failed, failedLog) = await OnlyRunAsync(tenant, workspace);
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Equal("StateBackend", failed.Stage);
        Assert.Contains("Creating the state backend failed", failed.Error);
        Assert.Contains("BucketAlreadyExists", failed.Error);
        Assert.Contains("Nothing of the workspace was created", failed.WorkspaceState);
        Assert.Contains("aws_kms_key.state: will be created", failedLog);
        await using (var connection = await world.OpenAsync())
        {
            var kept = await connection.QuerySingleAsync<(string Status, string PendingState)>(
                "select status, pending_state::text from state_backends where cloud_account_id = @account", new { account });
            Assert.Equal("creating", kept.Status);
            Assert.Contains("aws_kms_key", kept.PendingState);
            // The tenant fixes the cause; here, the account's name no longer asks the simulator to fail.
            await connection.ExecuteAsync("update cloud_accounts set name = 'recovered' where id = @account", new { account });
        }

        Assert.True((await world.Commands.RetryAsync(tenant, workspace.Id, failed.Id, WorkspaceWorld.Operator, default)).Succeeded);
        await StatusAsync(tenant, "lake", WorkspaceStatus.Ready);

        var retry = (await world.Store.RunsAsync(tenant, workspace.Id, 10, default))[0];
        var retryLog = await world.RunLogAsync(retry);
        await using var check = await world.OpenAsync();
        Assert.Contains("Finishing the state backend", retryLog);
        // The key from the first attempt is adopted, not created again; the bucket is still to make.
        Assert.DoesNotContain("aws_kms_key.state: will be created", retryLog);
        Assert.Contains("aws_s3_bucket.this[0]: will be created", retryLog);
        Assert.Contains("State backend ready", retryLog);
        Assert.Equal("ready",
            await check.ExecuteScalarAsync<string>("select status from state_backends where cloud_account_id = @account", new { account }));
        Assert.Null(await check.ExecuteScalarAsync<string?>("select pending_state::text from state_backends where cloud_account_id = @account",
            new { account }));
    }

    [Fact]
    public async Task A_run_that_finds_another_creating_the_state_backend_says_it_waits_and_goes_on_when_that_is_done()
    {
        var tenant = await world.NewTenantAsync("backend-wait");
        var account = await world.NewAccountAsync(tenant);
        // Stand in for another replica's run that is creating this account's backend in this region.
        await using var other = await world.OpenAsync();
        await other.ExecuteAsync("select pg_advisory_lock(hashtextextended(@key, 0))", new { key = $"state-backend:{account}:sandbox-local-1" });

        var workspace = await CreateAsync(tenant, account, "lake", "10.40.0.0/16");
        var run = await Eventually.ValueAsync(async () => (await world.Store.RunsAsync(tenant, workspace.Id, 10, default)).SingleOrDefault(), r
            => r is not null, "the run");
        await Eventually.ValueAsync(() => world.RunLogAsync(run!), log
            => log.Contains("Another run is creating the state backend in sandbox-local-1; waiting for it.", StringComparison.Ordinal),
            "the run to say it waits");
        Assert.Equal(WorkspaceStatus.Provisioning, (await world.Store.FindByNameAsync(tenant, "lake", default))!.Status);

        await other.ExecuteAsync("select pg_advisory_unlock(hashtextextended(@key, 0))", new { key = $"state-backend:{account}:sandbox-local-1" });
        await StatusAsync(tenant, "lake", WorkspaceStatus.Ready);
    }
}
