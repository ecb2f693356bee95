using System.Text.Json;
using Cogrion.Portal.Infrastructure.OpenTofu;

namespace Cogrion.Portal.Tests.OpenTofu;

/// <summary>The real runner, through the real process boundary, against the real tofu-sandbox executable.</summary>
public sealed class TofuRunnerTests
{
    [Fact]
    public async Task A_run_initialises_plans_summarises_applies_and_reads_the_outputs()
    {
        using var workspace = new SandboxWorkspace();
        var log = new CollectingRunLog();

        var result = await workspace.Runner().RunAsync(workspace.Request(), log, CancellationToken.None);

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(
            [TofuStage.CheckVersion, TofuStage.Prepare, TofuStage.Init, TofuStage.Plan, TofuStage.Summarize, TofuStage.Apply, TofuStage.ReadOutputs],
            result.Timings.Select(t => t.Stage));
        Assert.Contains("module.stack.module.vpc.aws_vpc.this[0]", result.Plan!.ToAdd);
        Assert.Contains("module.stack.module.eks.module.eks_managed_node_group[\"default\"].aws_eks_node_group.this[0]", result.Plan.ToAdd);
        Assert.Equal("acme-dev-eks", result.Outputs!.Values["cluster_name"].GetString());
        Assert.Equal([SandboxWorkspace.SensitiveOutput], result.Outputs.SensitiveNames);
        Assert.Contains(log.Lines, l => l.Stage == TofuStage.Init && l.Text == "OpenTofu has been successfully initialized!");
        Assert.Contains(log.Lines, l => l.Stage == TofuStage.Apply
            && l.Text.StartsWith("module.stack.module.eks.aws_eks_cluster.this[0]: create completed in 9m20s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_database_is_planned_only_when_the_workspace_asks_for_one()
    {
        using var workspace = new SandboxWorkspace();

        var request = workspace.Request(database: false);

        var result = await workspace.Runner().PlanAsync(request, new CollectingRunLog(), CancellationToken.None);
        TofuRunner.DiscardPlan(request);

        Assert.True(result.Succeeded, result.Error);
        Assert.DoesNotContain(result.Plan!.ToAdd, a => a.Contains("aws_db_instance", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_second_run_of_an_unchanged_workspace_changes_nothing()
    {
        using var workspace = new SandboxWorkspace();
        var runner = workspace.Runner();
        Assert.True((await runner.RunAsync(workspace.Request(), new CollectingRunLog(), CancellationToken.None)).Succeeded);

        var second = await runner.RunAsync(workspace.Request(), new CollectingRunLog(), CancellationToken.None);

        Assert.True(second.Succeeded, second.Error);
        Assert.False(second.Plan!.HasChanges);
        Assert.DoesNotContain(second.Timings, t => t.Stage == TofuStage.Apply);
        Assert.Equal("acme-dev-eks", second.Outputs!.Values["cluster_name"].GetString());
    }

    [Fact]
    public async Task A_destroy_run_removes_every_resource()
    {
        using var workspace = new SandboxWorkspace();
        var runner = workspace.Runner();
        Assert.True((await runner.RunAsync(workspace.Request(), new CollectingRunLog(), CancellationToken.None)).Succeeded);
        var created = workspace.ResourcesInState();

        var destroy = await runner.RunAsync(workspace.Request(TofuOperation.Destroy), new CollectingRunLog(), CancellationToken.None);

        Assert.True(destroy.Succeeded, destroy.Error);
        Assert.Equal(created, destroy.Plan!.ToDestroy.Count);
        Assert.Empty(destroy.Plan.ToAdd);
        Assert.Equal(0, workspace.ResourcesInState());
        Assert.Empty(destroy.Outputs!.Values);
    }

    [Fact]
    public async Task A_failed_apply_keeps_its_log_its_error_and_its_stage()
    {
        using var workspace = new SandboxWorkspace("fail-apply-demo");
        var log = new CollectingRunLog();

        var result = await workspace.Runner().RunAsync(workspace.Request(), log, CancellationToken.None);

        Assert.Equal(TofuRunStatus.Failed, result.Status);
        Assert.Equal(TofuStage.Apply, result.Stage);
        Assert.Contains("waiting for EKS Node Group (fail-apply-demo-eks:default) create: unexpected state 'CREATE_FAILED'", result.Error);
        Assert.Contains("main.tf:308", result.Error);
        Assert.Contains("apply failed part-way", result.WorkspaceState);
        Assert.Contains(log.Lines, l => l.Level == RunLogLevel.Error
            && l.Text.EndsWith("aws_eks_node_group.this[0]: create failed after 2m00s", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.Text.Contains("NodeCreationFailure", StringComparison.Ordinal));
        Assert.True(workspace.ResourcesInState() > 0, "what was created before the failure stays in the state");
        Assert.False(File.Exists(Path.Combine(workspace.LastWorkingDirectory, RootModuleWriter.PlanFile)));
    }

    [Fact]
    public async Task A_failed_plan_fails_in_the_plan_stage_and_changes_nothing()
    {
        using var workspace = new SandboxWorkspace("fail-plan-demo");

        var result = await workspace.Runner().RunAsync(workspace.Request(), new CollectingRunLog(), CancellationToken.None);

        Assert.Equal(TofuRunStatus.Failed, result.Status);
        Assert.Equal(TofuStage.Plan, result.Stage);
        Assert.Contains("Error: Invalid value for variable (main.tf.json:5)", result.Error);
        Assert.Contains("Nothing was changed", result.WorkspaceState);
        Assert.Equal(0, workspace.ResourcesInState());
    }

    [Fact]
    public async Task A_failed_init_says_why_in_the_init_stage()
    {
        using var workspace = new SandboxWorkspace();
        var request = workspace.Request() with { ModuleSource = Path.Combine(workspace.ModuleDirectory, "missing") };

        var result = await workspace.Runner().RunAsync(request, new CollectingRunLog(), CancellationToken.None);

        Assert.Equal(TofuRunStatus.Failed, result.Status);
        Assert.Equal(TofuStage.Init, result.Stage);
        Assert.Equal("tofu init failed: Error: Unreadable module directory", result.Error);
    }

    [Fact]
    public async Task Cancelling_mid_apply_interrupts_tofu_which_stops_within_the_grace_period_and_the_run_ends_cancelled()
    {
        using var workspace = new SandboxWorkspace("slow-demo");
        using var cancel = new CancellationTokenSource();
        var log = new CancelWhen(l => l.Stage == TofuStage.Apply && l.Text.Contains(": create completed in", StringComparison.Ordinal), cancel);

        var result = await workspace.Runner().RunAsync(workspace.Request(), log, cancel.Token);

        Assert.Equal(TofuRunStatus.Cancelled, result.Status);
        Assert.Equal(TofuStage.Apply, result.Stage);
        Assert.Contains("apply was interrupted: some resources may exist", result.WorkspaceState);
        Assert.DoesNotContain("killed", result.WorkspaceState);
        Assert.Contains(log.Lines, l => l.Text.StartsWith("Interrupt received.", StringComparison.Ordinal));
        Assert.InRange(workspace.ResourcesInState(), 1, 40);
    }

    [Fact]
    public async Task A_tofu_that_ignores_the_interrupt_is_killed_after_the_grace_period()
    {
        using var workspace = new SandboxWorkspace("slow-stubborn");
        workspace.Options.CancelGracePeriod = TimeSpan.FromSeconds(1);
        using var cancel = new CancellationTokenSource();
        var log = new CancelWhen(l => l.Stage == TofuStage.Apply && l.Text.Contains(": create started", StringComparison.Ordinal), cancel);
        var request = workspace.Request(environment: new Dictionary<string, string> { ["TOFU_SANDBOX_IGNORE_INTERRUPT"] = "1" });

        var result = await workspace.Runner().RunAsync(request, log, cancel.Token);

        Assert.Equal(TofuRunStatus.Cancelled, result.Status);
        Assert.Equal(TofuStage.Apply, result.Stage);
        Assert.Contains("killed", result.WorkspaceState);
        Assert.Contains("force-unlock", result.WorkspaceState);
    }

    [Fact]
    public async Task A_missing_executable_fails_the_run_saying_what_to_install()
    {
        using var workspace = new SandboxWorkspace();
        workspace.Options.Executable = "/nonexistent/bin/tofu";

        var result = await workspace.Runner().RunAsync(workspace.Request(provider: TofuProvider.Aws), new CollectingRunLog(), CancellationToken.None);

        Assert.Equal(TofuRunStatus.Failed, result.Status);
        Assert.Equal(TofuStage.CheckVersion, result.Stage);
        Assert.Contains("/nonexistent/bin/tofu", result.Error);
        Assert.Contains("Install OpenTofu 1.10.7 or newer from https://opentofu.org/docs/intro/install/", result.Error);
        Assert.Contains("OpenTofu:Executable", result.Error);
    }

    [Fact]
    public async Task A_too_old_executable_fails_the_run_saying_what_to_install()
    {
        using var workspace = new SandboxWorkspace();
        // The simulator presents itself as an old OpenTofu when asked to; the runner cannot tell.
        workspace.Options.Executable = workspace.Options.SandboxExecutable;
        var request = workspace.Request(provider: TofuProvider.Aws, environment: new Dictionary<string,
            string>
        { ["TOFU_SANDBOX_VERSION"] = "1.6.2" });

        var result = await workspace.Runner().RunAsync(request, new CollectingRunLog(), CancellationToken.None);

        Assert.Equal(TofuRunStatus.Failed, result.Status);
        Assert.Equal(TofuStage.CheckVersion, result.Stage);
        Assert.Contains("is OpenTofu 1.6.2, older than the 1.10.7 this Portal needs", result.Error);
        Assert.Contains("Install OpenTofu 1.10.7 or newer from https://opentofu.org/docs/intro/install/", result.Error);
    }

    [Fact]
    public async Task A_sensitive_output_and_a_sensitive_variable_appear_nowhere_in_the_log_the_result_or_the_working_directory()
    {
        using var workspace = new SandboxWorkspace();
        var log = new CollectingRunLog();

        var result = await workspace.Runner().RunAsync(workspace.Request(), log, CancellationToken.None);

        Assert.True(result.Succeeded, result.Error);
        var sensitiveOutput = workspace.SensitiveOutputValueInState();
        Assert.NotNull(sensitiveOutput); // It exists, in the state in the bucket, and only there.
        string[] secrets = [sensitiveOutput, SandboxWorkspace.BootstrapToken];
        var everything = string.Join('\n', log.Lines.Select(l => l.ToString()))
            + JsonSerializer.Serialize(result)
            + string.Join('\n', Directory.EnumerateFiles(workspace.LastWorkingDirectory, "*", SearchOption.AllDirectories).Select(File.ReadAllText));
        foreach (var secret in secrets)
            Assert.DoesNotContain(secret, everything);
        Assert.False(File.Exists(Path.Combine(workspace.LastWorkingDirectory, RootModuleWriter.SensitiveVariablesFile)));
    }

    [Fact]
    public async Task A_plan_leaves_no_secret_inputs_behind_and_a_discarded_plan_leaves_nothing_holding_them()
    {
        using var workspace = new SandboxWorkspace();
        var request = workspace.Request();

        var plan = await workspace.Runner().PlanAsync(request, new CollectingRunLog(), CancellationToken.None);

        Assert.True(plan.Succeeded, plan.Error);
        Assert.False(File.Exists(Path.Combine(request.WorkingDirectory, RootModuleWriter.SensitiveVariablesFile)));
        TofuRunner.DiscardPlan(request);
        Assert.DoesNotContain(SandboxWorkspace.BootstrapToken,
            string.Join('\n', Directory.EnumerateFiles(request.WorkingDirectory, "*", SearchOption.AllDirectories).Select(File.ReadAllText)));
    }

    /// <summary>Collects the log and cancels the run when a line matching the condition arrives, as a person pressing Cancel would.</summary>
    private sealed class CancelWhen(Func<RunLogLine, bool> condition, CancellationTokenSource cancel) : IRunLog
    {
        private readonly CollectingRunLog inner = new();

        public IReadOnlyList<RunLogLine> Lines => inner.Lines;

        public async ValueTask WriteAsync(RunLogLine line, CancellationToken cancellationToken)
        {
            await inner.WriteAsync(line, cancellationToken);
            if (condition(line)) await cancel.CancelAsync();
        }
    }
}
