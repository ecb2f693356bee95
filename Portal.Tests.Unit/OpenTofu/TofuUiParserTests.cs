using Cogrion.Portal.Infrastructure.OpenTofu;

namespace Cogrion.Portal.Tests.OpenTofu;

/// <summary>The machine-readable UI stream, from recordings, into typed events.</summary>
public sealed class TofuUiParserTests
{
    [Fact]
    public void The_first_message_names_the_OpenTofu_and_UI_versions()
    {
        var version = Assert.IsType<TofuVersionMessage>(Recording.Events("plan.jsonl")[0]);

        Assert.Equal("1.10.6", version.TofuVersion);
        Assert.Equal("1.2", version.UiVersion);
    }

    [Fact]
    public void Planned_changes_carry_the_resource_address_action_and_reason()
    {
        var changes = Recording.Events("plan.jsonl").OfType<TofuResourceChangeMessage>().Where(c => !c.IsDrift).ToList();

        Assert.Equal(["create", "update", "replace", "delete"], changes.Select(c => c.Action));
        Assert.Equal("module.stack.module.eks.module.eks_managed_node_group[\"gpu\"].aws_eks_node_group.this[0]", changes[0].Resource.Address);
        Assert.Equal("module.stack.module.eks.module.eks_managed_node_group[\"gpu\"]", changes[0].Resource.Module);
        Assert.Equal("aws_eks_node_group", changes[0].Resource.Type);
        Assert.Equal("0", changes[0].Resource.Key);
        Assert.Equal("cannot_update", changes[2].Reason);
    }

    [Fact]
    public void Drift_is_told_apart_from_planned_changes() =>
        Assert.Equal("module.stack.module.eks.aws_eks_cluster.this[0]",
            Assert.Single(Recording.Events("plan.jsonl").OfType<TofuResourceChangeMessage>(), c => c.IsDrift).Resource.Address);

    [Fact]
    public void The_change_summary_has_its_counts_and_operation()
    {
        var summary = Assert.Single(Recording.Events("plan.jsonl").OfType<TofuChangeSummaryMessage>());

        Assert.Equal(new TofuChangeCounts(2, 1, 0, 2, "plan"), summary.Changes);
    }

    [Fact]
    public void Apply_progress_is_a_sequence_of_hooks_with_elapsed_time_and_id()
    {
        var hooks = Recording.Events("apply.jsonl").OfType<TofuHookMessage>()
            .Where(h => h.Resource.Address == "module.stack.module.vpc.aws_nat_gateway.this[0]").ToList();

        Assert.Equal([TofuHookKind.ApplyStart, TofuHookKind.ApplyProgress, TofuHookKind.ApplyComplete], hooks.Select(h => h.Kind));
        Assert.Equal(TimeSpan.FromSeconds(105), hooks[2].Elapsed);
        Assert.Equal("nat-0f1e2d3c4b5a69788", hooks[2].IdValue);
    }

    [Fact]
    public void Fractional_elapsed_seconds_are_read()
    {
        var update = Recording.Events("apply.jsonl").OfType<TofuHookMessage>()
            .Single(h => h.Kind == TofuHookKind.ApplyComplete && h.Action == "update");

        Assert.Equal(12.21, update.Elapsed!.Value.TotalSeconds, 2);
    }

    [Fact]
    public void A_diagnostic_has_severity_summary_detail_address_and_range()
    {
        var error = Assert.Single(Recording.Events("apply-errored.jsonl").OfType<TofuDiagnosticMessage>()).Diagnostic;

        Assert.Equal(TofuLevel.Error, error.Severity);
        Assert.StartsWith("waiting for EKS Node Group", error.Summary);
        Assert.Contains("NodeCreationFailure", error.Detail);
        Assert.Equal("module.stack.module.eks.module.eks_managed_node_group[\"default\"].aws_eks_node_group.this[0]", error.Address);
        Assert.Equal(new TofuSourceRange(".terraform/modules/stack.eks/modules/eks-managed-node-group/main.tf", 308, 1), error.Range);
    }

    [Fact]
    public void A_warning_diagnostic_is_a_warning() =>
        Assert.Equal(TofuLevel.Warning, Assert.Single(Recording.Events("plan.jsonl").OfType<TofuDiagnosticMessage>()).Diagnostic.Severity);

    [Fact]
    public void An_interrupted_apply_shows_the_interrupt_the_errored_resource_and_the_halt()
    {
        var events = Recording.Events("apply-interrupted.jsonl");

        Assert.Contains(events.OfType<TofuLogMessage>(), l => l.Message.StartsWith("Interrupt received.", StringComparison.Ordinal));
        Assert.Contains(events.OfType<TofuHookMessage>(), h => h.Kind == TofuHookKind.ApplyErrored);
        Assert.Equal("execution halted", events.OfType<TofuDiagnosticMessage>().Last().Diagnostic.Summary);
    }

    [Fact]
    public void The_outputs_message_keeps_names_and_sensitivity_but_never_values()
    {
        var outputs = Assert.Single(Recording.Events("apply.jsonl").OfType<TofuOutputsMessage>());

        Assert.Equal([new TofuOutputName("cluster_name", false, null), new TofuOutputName("database_password", true, null)], outputs.Outputs);
        Assert.DoesNotContain(Recording.SensitiveOutputValue, outputs.ToString());
    }

    [Theory]
    [InlineData("Initializing the backend...")]
    [InlineData("- Installed hashicorp/aws v5.95.0 (signed, key ID 0C0AF313E5FD9F80)")]
    [InlineData("{not json")]
    [InlineData("{\"no\":\"type\"}")]
    public void Lines_that_are_not_messages_pass_through_as_text(string line) =>
        Assert.Equal(line, Assert.IsType<TofuTextLine>(TofuUiParser.Parse(line)).Text);

    [Fact]
    public void An_unknown_message_type_keeps_its_text_for_forward_compatibility()
    {
        var other = Assert.IsType<TofuOtherMessage>(TofuUiParser.Parse(
            """{"@level":"info","@message":"Something new happened","@module":"tofu.ui","@timestamp":"2025-09-18T09:14:02Z","type":"ephemeral_op_start","hook":{}}"""));

        Assert.Equal("ephemeral_op_start", other.Type);
        Assert.Equal("Something new happened", other.Message);
    }
}
