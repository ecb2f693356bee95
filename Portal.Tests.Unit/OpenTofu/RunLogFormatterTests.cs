using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.OpenTofu;

namespace Cogrion.Portal.Tests.OpenTofu;

/// <summary>The readable live log people watch: what started, what finished and how long it took, what went wrong where.</summary>
public sealed class RunLogFormatterTests
{
    [Fact]
    public void A_resource_is_reported_started_and_completed_with_its_duration()
    {
        var text = Recording.Log("apply.jsonl", TofuStage.Apply).Select(l => l.Text).ToList();

        Assert.Contains("module.stack.module.vpc.aws_nat_gateway.this[0]: create started", text);
        Assert.Contains("module.stack.module.vpc.aws_nat_gateway.this[0]: still creating (10s elapsed)", text);
        Assert.Contains("module.stack.module.vpc.aws_nat_gateway.this[0]: create completed in 1m45s [id=nat-0f1e2d3c4b5a69788]", text);
        Assert.Contains("Apply complete! Resources: 1 added, 1 changed, 1 destroyed.", text);
    }

    [Fact]
    public void A_diagnostic_shows_its_severity_summary_and_file_and_line_then_its_detail()
    {
        var lines = Recording.Log("apply-errored.jsonl", TofuStage.Apply);
        var headline = lines.Single(l => l.Text.StartsWith("Error:", StringComparison.Ordinal));

        Assert.Equal(RunLogLevel.Error, headline.Level);
        Assert.Contains("(.terraform/modules/stack.eks/modules/eks-managed-node-group/main.tf:308)", headline.Text);
        Assert.Contains(lines, l
            => l.Text == "  last error: i-0b6f3c2e9a1d4f7e2: NodeCreationFailure: Instances failed to join the kubernetes cluster");
    }

    [Fact]
    public void A_warning_is_logged_as_a_warning_with_its_location() =>
        Assert.Contains(Recording.Log("plan.jsonl", TofuStage.Plan),
            l => l.Level == RunLogLevel.Warning
                && l.Text.StartsWith("Warning: Argument is deprecated (.terraform/modules/stack.agent_irsa/main.tf:41)", StringComparison.Ordinal));

    [Fact]
    public void A_failed_resource_is_an_error_line() =>
        Assert.Contains(Recording.Log("apply-errored.jsonl", TofuStage.Apply),
            l => l.Level == RunLogLevel.Error && l.Text.EndsWith(": create failed after 22m31s", StringComparison.Ordinal));

    [Fact]
    public void Planned_changes_read_as_sentences() =>
        Assert.Contains("module.stack.module.database[0].module.db_instance.aws_db_instance.this[0]: will be replaced (cannot update)",
            Recording.Log("plan.jsonl", TofuStage.Plan).Select(l => l.Text));

    [Fact]
    public void Drift_reads_as_OpenTofu_says_it_under_objects_changed_outside_of_OpenTofu() =>
        Assert.Contains("module.stack.module.eks.aws_eks_cluster.this[0]: has changed outside of OpenTofu",
            Recording.Log("plan.jsonl", TofuStage.Plan).Select(l => l.Text));

    [Fact]
    public void An_object_deleted_outside_OpenTofu_reads_as_deleted()
    {
        var formatter = new RunLogFormatter(new SecretRedactor([]), TimeProvider.System);
        var message = TofuUiParser.Parse(
            """{"@level":"info","@message":"module.stack.module.vpc.aws_vpc.this[0]: Drift detected (delete)","@module":"tofu.ui","@timestamp":"2026-11-21T12:00:00.000000Z","change":{"resource":{"addr":"module.stack.module.vpc.aws_vpc.this[0]","module":"module.stack.module.vpc","resource":"aws_vpc.this[0]","implied_provider":"aws","resource_type":"aws_vpc","resource_name":"this","resource_key":0},"action":"delete"},"type":"resource_drift"}""");

        var line = Assert.Single(formatter.Format(TofuStage.Plan, message));

        Assert.Equal("module.stack.module.vpc.aws_vpc.this[0]: has been deleted outside of OpenTofu", line.Text);
    }

    [Fact]
    public void Outputs_are_listed_by_name_and_the_sensitive_value_is_nowhere()
    {
        var lines = Recording.Log("apply.jsonl", TofuStage.Apply);

        Assert.Contains("Outputs: cluster_name, database_password (sensitive)", lines.Select(l => l.Text));
        Assert.DoesNotContain(lines, l => l.ToString().Contains(Recording.SensitiveOutputValue, StringComparison.Ordinal));
    }

    [Fact]
    public void A_known_secret_is_masked_even_in_a_plain_text_line()
    {
        var formatter = new RunLogFormatter(new SecretRedactor(["bootstrap-7f3a9c"]), TimeProvider.System);

        var line = Assert.Single(formatter.Format(TofuStage.Init, TofuUiParser.Parse("provider said: token bootstrap-7f3a9c rejected")));

        Assert.Equal($"provider said: token {SecretRedactor.Mask} rejected", line.Text);
    }

    [Fact]
    public void Blank_text_lines_are_dropped() =>
        Assert.Empty(new RunLogFormatter(new SecretRedactor([]), TimeProvider.System).Format(TofuStage.Init, TofuUiParser.Parse("   ")));

    [Fact]
    public void An_error_in_init_text_output_is_an_error_line()
    {
        var formatter = new RunLogFormatter(new SecretRedactor([]), TimeProvider.System);

        var line = Assert.Single(formatter.Format(TofuStage.Init,
            TofuUiParser.Parse("│ Error: Failed to query available provider packages", fromStandardError: true)));

        Assert.Equal(RunLogLevel.Error, line.Level);
    }
}
