using System.Text.Json.Nodes;
using Cogrion.Portal.Infrastructure.OpenTofu;

namespace Cogrion.Portal.Tests.OpenTofu;

/// <summary>The root module every run writes: the module call, the state backend, the assumed role.</summary>
public sealed class RootModuleWriterTests
{
    private static TofuRunRequest Request(TofuProvider provider = TofuProvider.Aws, TofuBackend? backend = null) => new()
    {
        WorkingDirectory = "/var/lib/cogrion/runs/r1",
        ModuleSource = "/opt/cogrion/terraform/aws",
        Provider = provider,
        Region = "eu-central-1",
        Role = new AssumedRole("arn:aws:iam::210987654321:role/cogrion-portal", "ext-9b1f", "cogrion-run-r1"),
        Backend = backend ?? new S3Backend("acme-prod-tofu-state", "workspaces/w1.tfstate", "eu-central-1",
            new AssumedRole("arn:aws:iam::210987654321:role/cogrion-portal", "ext-9b1f", "cogrion-run-r1")),
        Variables = new JsonObject { ["workspace_name"] = "acme-prod", ["note"] = "costs ${var.x} and %{ if }" },
        SensitiveVariables = new JsonObject { ["agent_bootstrap_token"] = "bootstrap-secret-1" },
        Outputs = [new TofuOutputDeclaration("cluster_name"), new TofuOutputDeclaration("admin_password", Sensitive: true)],
    };

    [Fact]
    public void The_aws_provider_assumes_the_tenants_role_with_its_external_id_and_holds_no_keys()
    {
        var aws = RootModuleWriter.Providers(Request())["provider"]!["aws"]!.AsObject();

        Assert.Equal("arn:aws:iam::210987654321:role/cogrion-portal", aws["assume_role"]!["role_arn"]!.GetValue<string>());
        Assert.Equal("ext-9b1f", aws["assume_role"]!["external_id"]!.GetValue<string>());
        Assert.Equal("cogrion-run-r1", aws["assume_role"]!["session_name"]!.GetValue<string>());
        Assert.False(aws.ContainsKey("access_key") || aws.ContainsKey("secret_key"));
    }

    [Fact]
    public void S3_state_is_encrypted_locked_with_a_lock_file_and_reached_through_the_role()
    {
        var s3 = RootModuleWriter.Backend(Request().Backend)["terraform"]!["backend"]!["s3"]!;

        Assert.True(s3["use_lockfile"]!.GetValue<bool>());
        Assert.True(s3["encrypt"]!.GetValue<bool>());
        Assert.Equal("ext-9b1f", s3["assume_role"]!["external_id"]!.GetValue<string>());
    }

    [Fact]
    public void Oss_state_is_locked_through_tablestore_and_reached_with_the_runners_session_not_a_role_of_its_own()
    {
        var backend = new OssBackend("acme-state", "workspaces", "w1.tfstate", "cn-hangzhou", "https://acme.cn-hangzhou.ots.aliyuncs.com",
            "tofu_locks");
        var oss = RootModuleWriter.Backend(backend)["terraform"]!["backend"]!["oss"]!.AsObject();

        Assert.Equal("tofu_locks", oss["tablestore_table"]!.GetValue<string>());
        Assert.Equal("https://acme.cn-hangzhou.ots.aliyuncs.com", oss["tablestore_endpoint"]!.GetValue<string>());
        // The backend's own AssumeRole cannot send the external ID (docs/adr/0050): it must not try.
        Assert.DoesNotContain(oss, p => p.Key.StartsWith("assume_role", StringComparison.Ordinal));
    }

    [Fact]
    public void The_alicloud_provider_gets_its_region_and_no_role_of_its_own()
    {
        var providers = RootModuleWriter.Providers(Request(TofuProvider.AliCloud) with { Region = "cn-hangzhou" });

        var alicloud = providers["provider"]!["alicloud"]!.AsObject();
        Assert.Equal(["region"], alicloud.Select(p => p.Key));
        Assert.Equal("cn-hangzhou", alicloud["region"]!.GetValue<string>());
    }

    [Fact]
    public void Oss_backend_gets_only_arguments_OpenTofus_oss_backend_declares()
    {
        var backend = new OssBackend("acme-state", "workspaces", "w1.tfstate", "cn-hangzhou", "https://acme.cn-hangzhou.ots.aliyuncs.com",
            "tofu_locks");
        var oss = RootModuleWriter.Backend(backend)["terraform"]!["backend"]!["oss"]!.AsObject();

        // The oss backend's schema (internal/backend/remote-state/oss/backend.go): anything else, such
        // as an external_id, makes `tofu init` fail before a run has started.
        string[] declared =
        [
            "access_key", "secret_key", "security_token", "ecs_role_name", "region", "sts_endpoint", "tablestore_endpoint", "endpoint",
            "bucket", "prefix", "key", "tablestore_table", "encrypt", "acl", "shared_credentials_file", "profile", "assume_role",
            "assume_role_role_arn", "assume_role_session_name", "assume_role_policy", "assume_role_session_expiration",
        ];
        Assert.All(oss.Select(p => p.Key), name => Assert.Contains(name, declared));
        Assert.False(oss.ContainsKey("assume_role"), "The nested assume_role block is deprecated in favour of the flat assume_role_* arguments.");
    }

    [Fact]
    public void A_sensitive_variable_is_declared_sensitive_and_passed_by_reference_never_inlined()
    {
        var main = RootModuleWriter.MainModule(Request());

        Assert.True(main["variable"]!["agent_bootstrap_token"]!["sensitive"]!.GetValue<bool>());
        Assert.Equal("${var.agent_bootstrap_token}", main["module"]!["stack"]!["agent_bootstrap_token"]!.GetValue<string>());
        Assert.DoesNotContain("bootstrap-secret-1", main.ToJsonString());
    }

    [Fact]
    public void Template_sequences_in_inputs_are_escaped_so_they_stay_literal() =>
        Assert.Equal("costs $${var.x} and %%{ if }", RootModuleWriter.MainModule(Request())["module"]!["stack"]!["note"]!.GetValue<string>());

    [Fact]
    public void The_module_source_is_relative_as_OpenTofu_requires_for_local_modules() =>
        Assert.Equal("../../../../../opt/cogrion/terraform/aws",
            RootModuleWriter.LocalModuleSource("/var/lib/cogrion/runs/r1", "/opt/cogrion/terraform/aws"));

    [Fact]
    public void A_module_below_the_working_directory_gets_a_dot_slash() =>
        Assert.Equal("./modules/aws", RootModuleWriter.LocalModuleSource("/w", "/w/modules/aws"));

    [Fact]
    public void Sensitive_outputs_are_declared_sensitive()
    {
        var outputs = RootModuleWriter.MainModule(Request())["output"]!;

        Assert.True(outputs["admin_password"]!["sensitive"]!.GetValue<bool>());
        Assert.Null(outputs["cluster_name"]!["sensitive"]);
        Assert.Equal("${module.stack.cluster_name}", outputs["cluster_name"]!["value"]!.GetValue<string>());
    }
}
