using System.Text.Json;
using Cogrion.Portal.Features.Workspaces.Modules;

namespace Cogrion.Portal.Tests.Workspaces.Modules;

public sealed class ModuleOutputsTests
{
    // The shape `tofu output -json` prints.
    private static string OutputJson(bool withDatabase, string? sensitiveOutput = null)
    {
        object Output(object? value, string type = "string") => new Dictionary<string, object?>
        {
            ["sensitive"] = false,
            ["type"] = type,
            ["value"] = value,
        };
        var outputs = new Dictionary<string, object>
        {
            ["cluster_id"] = Output("arn:aws:eks:eu-central-1:123456789012:cluster/cogrion-analytics"),
            ["cluster_name"] = Output("cogrion-analytics"),
            ["cluster_endpoint"] = Output("https://ABCDEF.gr7.eu-central-1.eks.amazonaws.com"),
            ["kubernetes_version"] = Output("1.31"),
            ["vpc_id"] = Output("vpc-0abc"),
            ["private_subnet_ids"] = Output(new[] { "subnet-1", "subnet-2", "subnet-3" }),
            ["public_subnet_ids"] = Output(new[] { "subnet-4", "subnet-5", "subnet-6" }),
            ["nat_public_ips"] = Output(new[] { "198.51.100.7" }),
            ["oidc_provider_arn"] = Output("arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/ABC"),
            ["agent_namespace"] = Output("cogrion-agent"),
            ["agent_role_arn"] = Output("arn:aws:iam::123456789012:role/cogrion-analytics-agent"),
            ["database_endpoint"] = Output(withDatabase ? "cogrion-analytics.abc.eu-central-1.rds.amazonaws.com" : null),
            ["database_port"] = Output(withDatabase ? 5432 : null, "number"),
            ["database_master_secret_ref"] = Output(withDatabase ? "arn:aws:secretsmanager:eu-central-1:123456789012:secret:rds!db-1" : null),
        };
        if (sensitiveOutput is not null)
            outputs[sensitiveOutput] = new Dictionary<string,
                object?>
            { ["sensitive"] = true, ["type"] = "string", ["value"] = "s3cr3t-output-value" };
        return JsonSerializer.Serialize(outputs);
    }

    [Fact]
    public void Outputs_of_a_workspace_with_a_database_are_read()
    {
        using var document = JsonDocument.Parse(OutputJson(withDatabase: true));

        var outputs = ModuleOutputs.Parse(document.RootElement);

        Assert.Equal("cogrion-analytics", outputs.ClusterName);
        Assert.Equal(["subnet-1", "subnet-2", "subnet-3"], outputs.PrivateSubnetIds);
        Assert.Equal(5432, outputs.DatabasePort);
        Assert.StartsWith("arn:aws:secretsmanager:", outputs.DatabaseMasterSecretRef);
    }

    [Fact]
    public void Database_outputs_are_null_without_a_database()
    {
        using var document = JsonDocument.Parse(OutputJson(withDatabase: false));

        var outputs = ModuleOutputs.Parse(document.RootElement);

        Assert.Null(outputs.DatabaseEndpoint);
        Assert.Null(outputs.DatabasePort);
        Assert.Null(outputs.DatabaseMasterSecretRef);
    }

    [Fact]
    public void A_sensitive_output_is_refused_without_its_value_reaching_the_error()
    {
        using var document = JsonDocument.Parse(OutputJson(withDatabase: false, sensitiveOutput: "cluster_endpoint"));

        var error = Assert.Throws<InvalidDataException>(() => ModuleOutputs.Parse(document.RootElement));

        Assert.Contains("cluster_endpoint", error.Message);
        Assert.DoesNotContain("s3cr3t-output-value", error.Message);
    }

    [Fact]
    public void A_missing_output_is_named_in_the_error()
    {
        using var document = JsonDocument.Parse("""{ "cluster_id": { "sensitive": false, "value": "x" } }""");

        var error = Assert.Throws<InvalidDataException>(() => ModuleOutputs.Parse(document.RootElement));

        Assert.Contains("cluster_name", error.Message);
    }
}
