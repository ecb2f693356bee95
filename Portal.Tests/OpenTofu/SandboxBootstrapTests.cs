using Cogrion.Portal.Infrastructure.OpenTofu;

namespace Cogrion.Portal.Tests.OpenTofu;

/// <summary>
/// The state backend bootstrap (ADR 0041) against the real tofu-sandbox: the bootstrap module's
/// resources, and init moving the state when the backend changes, as OpenTofu does.
/// </summary>
public sealed class SandboxBootstrapTests
{
    private const string Role = "arn:aws:iam::123456789012:role/cogrion-provisioner";
    private static readonly string[] InitArguments = ["init", "-input=false", "-no-color"];

    [Fact]
    public async Task A_bootstrap_plan_creates_the_key_and_the_bucket_with_its_settings_and_no_lock_table()
    {
        using var workspace = new SandboxWorkspace();
        var request = workspace.BootstrapRequest(Role);

        var result = await workspace.Runner().PlanAsync(request, new CollectingRunLog(), CancellationToken.None);
        TofuRunner.DiscardPlan(request);

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(
        [
            "module.stack.aws_kms_alias.state",
            "module.stack.aws_kms_key.state",
            "module.stack.module.state_bucket.aws_s3_bucket.this[0]",
            "module.stack.module.state_bucket.aws_s3_bucket_lifecycle_configuration.this[0]",
            "module.stack.module.state_bucket.aws_s3_bucket_ownership_controls.this[0]",
            "module.stack.module.state_bucket.aws_s3_bucket_policy.this[0]",
            "module.stack.module.state_bucket.aws_s3_bucket_public_access_block.this[0]",
            "module.stack.module.state_bucket.aws_s3_bucket_server_side_encryption_configuration.this[0]",
            "module.stack.module.state_bucket.aws_s3_bucket_versioning.this[0]",
            "module.stack.terraform_data.region_guard",
        ], result.Plan!.ToAdd.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_bootstrap_init_downloads_the_s3_bucket_module_and_not_the_cluster_ones()
    {
        using var workspace = new SandboxWorkspace();
        var log = new CollectingRunLog();

        var request = workspace.BootstrapRequest(Role);
        var result = await workspace.Runner().PlanAsync(request, log, CancellationToken.None);
        TofuRunner.DiscardPlan(request);

        Assert.True(result.Succeeded, result.Error);
        var init = log.Lines.Where(l => l.Stage == TofuStage.Init).Select(l => l.Text).ToList();
        Assert.Contains("Downloading registry.opentofu.org/terraform-aws-modules/s3-bucket/aws 4.11.0 for stack.state_bucket...", init);
        Assert.DoesNotContain(init, l => l.Contains("vpc", StringComparison.Ordinal) || l.Contains("eks", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_bootstrap_apply_outputs_the_bucket_named_for_the_account_and_region_and_its_key()
    {
        using var workspace = new SandboxWorkspace();

        var result = await workspace.Runner().RunAsync(workspace.BootstrapRequest(Role), new CollectingRunLog(), CancellationToken.None);

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal("cogrion-tfstate-123456789012-eu-central-1", result.Outputs!.Values["state_bucket"].GetString());
        Assert.Equal("eu-central-1", result.Outputs.Values["state_region"].GetString());
        Assert.StartsWith("arn:aws:kms:eu-central-1:123456789012:key/", result.Outputs.Values["kms_key_arn"].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_after_the_backend_changed_fails_without_migrate_state_and_moves_nothing()
    {
        using var workspace = new SandboxWorkspace();
        var bootstrap = await workspace.Runner().RunAsync(workspace.BootstrapRequest(Role), new CollectingRunLog(), CancellationToken.None);
        Assert.True(bootstrap.Succeeded, bootstrap.Error);
        await SandboxWorkspace.MoveBackendAsync(workspace.LastWorkingDirectory, workspace.BackendStatePath);

        var (exitCode, output) = await workspace.TofuAsync(workspace.LastWorkingDirectory, InitArguments);

        Assert.Equal(1, exitCode);
        Assert.Contains("Error: Backend configuration changed", output);
        Assert.Contains("use \"tofu init -migrate-state\"", output);
        Assert.False(File.Exists(workspace.BackendStatePath));
    }

    [Fact]
    public async Task Init_with_migrate_state_but_no_force_copy_cannot_ask_for_approval_without_input()
    {
        using var workspace = new SandboxWorkspace();
        Assert.True((await workspace.Runner().RunAsync(workspace.BootstrapRequest(Role), new CollectingRunLog(), CancellationToken.None)).Succeeded);
        await SandboxWorkspace.MoveBackendAsync(workspace.LastWorkingDirectory, workspace.BackendStatePath);

        var (exitCode, output) = await workspace.TofuAsync(workspace.LastWorkingDirectory, [.. InitArguments, "-migrate-state"]);

        Assert.Equal(1, exitCode);
        Assert.Contains("Error: Can't ask approval for state migration when interactive input is disabled.", output);
        Assert.False(File.Exists(workspace.BackendStatePath));
    }

    [Fact]
    public async Task Init_with_migrate_state_and_force_copy_moves_the_state_and_the_next_plan_changes_nothing()
    {
        using var workspace = new SandboxWorkspace();
        var runner = workspace.Runner();
        Assert.True((await runner.RunAsync(workspace.BootstrapRequest(Role), new CollectingRunLog(), CancellationToken.None)).Succeeded);
        var directory = workspace.LastWorkingDirectory;
        var localState = Path.Combine(directory, "terraform.tfstate");
        await SandboxWorkspace.MoveBackendAsync(directory, workspace.BackendStatePath);

        var (exitCode, output) = await workspace.TofuAsync(directory, [.. InitArguments, "-migrate-state", "-force-copy"]);

        Assert.True(exitCode == 0, output);
        Assert.Contains("Backend configuration changed!", output);
        Assert.Contains("Successfully configured the backend \"local\"! OpenTofu will automatically", output);
        Assert.Equal(SandboxWorkspace.AddressesInState(localState), SandboxWorkspace.AddressesInState(workspace.BackendStatePath));
        Assert.Contains(BootstrapBucket, SandboxWorkspace.AddressesInState(workspace.BackendStatePath));

        var request = workspace.BootstrapRequest(Role, directory, new LocalBackend(workspace.BackendStatePath));
        var next = await runner.PlanAsync(request, new CollectingRunLog(), CancellationToken.None);
        TofuRunner.DiscardPlan(request);
        Assert.True(next.Succeeded, next.Error);
        Assert.False(next.Plan!.HasChanges);
    }

    [Fact]
    public async Task A_bootstrap_in_an_account_whose_role_names_fail_bootstrap_fails_on_the_bucket_with_bucket_already_exists()
    {
        using var workspace = new SandboxWorkspace();
        var log = new CollectingRunLog();

        var result = await workspace.Runner()
            .RunAsync(workspace.BootstrapRequest("arn:aws:iam::123456789012:role/fail-bootstrap"), log, CancellationToken.None);

        Assert.Equal(TofuRunStatus.Failed, result.Status);
        Assert.Equal(TofuStage.Apply, result.Stage);
        Assert.Contains("creating S3 Bucket (cogrion-tfstate-123456789012-eu-central-1)", result.Error);
        Assert.Contains("BucketAlreadyExists: The requested bucket name is not available.", result.Error);
        var created = SandboxWorkspace.AddressesInState(Path.Combine(workspace.LastWorkingDirectory, "terraform.tfstate"));
        Assert.Contains("module.stack.aws_kms_key.state", created);
        Assert.DoesNotContain(BootstrapBucket, created);
    }

    [Fact]
    public async Task A_workspace_plans_no_state_bucket_of_its_own()
    {
        using var workspace = new SandboxWorkspace();
        var request = workspace.Request();

        var result = await workspace.Runner().PlanAsync(request, new CollectingRunLog(), CancellationToken.None);
        TofuRunner.DiscardPlan(request);

        Assert.True(result.Succeeded, result.Error);
        Assert.DoesNotContain(result.Plan!.ToAdd, a => a.Contains("aws_s3_bucket", StringComparison.Ordinal));
    }

    private const string BootstrapBucket = "module.stack.module.state_bucket.aws_s3_bucket.this[0]";
}
