using System.Text.Json;
using Cogrion.Portal.Infrastructure.OpenTofu;

namespace Cogrion.Portal.Tests.OpenTofu;

/// <summary>What an approver reads: resources to add, change, destroy and replace, by address; never a value.</summary>
public sealed class TofuPlanSummaryTests
{
    private readonly TofuPlanSummary summary = TofuPlanSummary.Parse(Recording.Text("plan.json"));

    [Fact]
    public void Resources_are_sorted_by_what_will_happen_to_them()
    {
        Assert.Equal(["module.stack.module.eks.module.eks_managed_node_group[\"gpu\"].aws_eks_node_group.this[0]",
            "module.stack.kubernetes_secret_v1.agent_bootstrap"], summary.ToAdd);
        Assert.Equal(["module.stack.module.eks.module.eks_managed_node_group[\"default\"].aws_eks_node_group.this[0]"], summary.ToChange);
        Assert.Equal(["module.stack.aws_s3_bucket_lifecycle_configuration.state"], summary.ToDestroy);
        Assert.Equal(["module.stack.module.database[0].module.db_instance.aws_db_instance.this[0]"], summary.ToReplace);
    }

    [Fact]
    public void No_ops_and_data_source_reads_are_not_changes() =>
        Assert.DoesNotContain(summary.ToAdd.Concat(summary.ToChange).Concat(summary.ToDestroy).Concat(summary.ToReplace),
            a => a.Contains("aws_vpc", StringComparison.Ordinal) || a.Contains("aws_caller_identity", StringComparison.Ordinal));

    [Fact]
    public void The_headline_counts_a_replacement_as_one_add_and_one_destroy_like_OpenTofu() =>
        Assert.Equal("Plan: 3 to add, 1 to change, 2 to destroy.", summary.Headline);

    [Fact]
    public void Drift_is_listed() =>
        Assert.Equal(["module.stack.module.eks.aws_eks_cluster.this[0]"], summary.Drifted);

    [Fact]
    public void Output_changes_are_named_without_their_values() =>
        Assert.Equal([new TofuOutputChange("database_password", "update")], summary.OutputChanges);

    [Fact]
    public void The_summary_holds_no_value_from_the_plan_document_not_even_sensitive_ones()
    {
        var serialized = JsonSerializer.Serialize(summary);

        Assert.DoesNotContain(Recording.SensitiveVariableValue, serialized);
        Assert.DoesNotContain(Recording.SensitiveOutputValue, serialized);
        Assert.DoesNotContain("10.40.0.0/16", serialized);
    }

    [Fact]
    public void A_plan_without_changes_says_so()
    {
        var empty = TofuPlanSummary.Parse("""{"format_version":"1.2","resource_changes":[]}""");

        Assert.False(empty.HasChanges);
        Assert.Equal("No changes. Your infrastructure matches the configuration.", empty.Headline);
    }

    [Fact]
    public void A_document_that_is_not_a_plan_is_refused() =>
        Assert.ThrowsAny<JsonException>(() => TofuPlanSummary.Parse("""{"outputs":{}}"""));
}
