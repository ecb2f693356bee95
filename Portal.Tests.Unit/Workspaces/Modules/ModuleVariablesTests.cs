using System.Text.Json;
using Cogrion.Portal.Features.Workspaces.Modules;

namespace Cogrion.Portal.Tests.Workspaces.Modules;

public sealed class ModuleVariablesTests
{
    private const string Token = "one-time-token-0123456789abcdefghijklmnopqrstuvwxyz";

    private static ModuleVariables Sample(DatabaseSpec? database = null) => new()
    {
        TenantId = Guid.Parse("3F2B6C1E-8D4A-4E7B-9C0D-1A2B3C4D5E6F"),
        WorkspaceId = Guid.Parse("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"),
        WorkspaceName = "analytics",
        Region = "eu-central-1",
        NetworkCidr = "10.20.0.0/16",
        KubernetesVersion = "1.31",
        NodePools = [new NodePool("system", "m6i.large", 2, 4)],
        UseKarpenter = false,
        Database = database,
        DeletionProtection = true,
        ApiAllowedCidrs = ["203.0.113.10/32"],
        AgentImage = "registry.cogrion.io/cogrion/agent:0.1.0",
        PortalUrl = "https://portal.cogrion.io",
        AgentBootstrapToken = new SensitiveString(Token),
    };

    [Fact]
    public void The_public_tfvars_hold_every_variable_except_the_sensitive_ones_under_their_module_names()
    {
        var tfvars = Sample().ToPublicTfvars();

        Assert.Equal(
            ["agent_image", "api_allowed_cidrs", "database", "deletion_protection", "kubernetes_version", "network_cidr", "node_pools", "portal_url",
                "region", "tenant_id", "use_karpenter", "workspace_id", "workspace_name"],
            tfvars.Select(p => p.Key).Order());
        Assert.DoesNotContain(Token, tfvars.ToJsonString());
    }

    [Fact]
    public void The_sensitive_tfvars_hold_only_the_bootstrap_token()
    {
        var tfvars = Sample().ToSensitiveTfvars();

        Assert.Equal(["agent_bootstrap_token"], tfvars.Select(p => p.Key));
        Assert.Equal(Token, tfvars["agent_bootstrap_token"]!.GetValue<string>());
    }

    [Fact]
    public void Values_are_written_in_the_shapes_the_module_types_expect()
    {
        var json = Sample(new DatabaseSpec("postgres", "db.m6g.large", 100)).ToPublicTfvars().ToJsonString();
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;

        Assert.Equal("3f2b6c1e-8d4a-4e7b-9c0d-1a2b3c4d5e6f", root.GetProperty("tenant_id").GetString());
        Assert.Equal(JsonValueKind.False, root.GetProperty("use_karpenter").ValueKind);
        var pool = root.GetProperty("node_pools")[0];
        Assert.Equal("m6i.large", pool.GetProperty("instance_type").GetString());
        Assert.Equal(2, pool.GetProperty("min_size").GetInt32());
        Assert.Equal(100, root.GetProperty("database").GetProperty("storage_gb").GetInt32());
    }

    [Fact]
    public void No_database_is_written_as_null()
    {
        var tfvars = Sample(database: null).ToPublicTfvars();

        Assert.True(tfvars.ContainsKey("database"));
        Assert.Null(tfvars["database"]);
    }

    [Fact]
    public void The_bootstrap_token_never_shows_in_the_records_text_or_its_plain_serialisation()
    {
        var variables = Sample();

        Assert.DoesNotContain(Token, variables.ToString());
        Assert.DoesNotContain(Token, JsonSerializer.Serialize(variables));
        Assert.Contains(SensitiveString.Mask, variables.ToString());
    }

    [Fact]
    public void The_sensitive_names_are_known_for_redaction() =>
        Assert.Equal(["agent_bootstrap_token"], ModuleVariables.SensitiveNames);
}
