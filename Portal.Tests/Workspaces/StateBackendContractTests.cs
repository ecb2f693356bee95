using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Cogrion.Portal.Tests.Workspaces.Modules;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// The contract between the Portal and terraform/&lt;cloud&gt;/bootstrap: the Portal writes exactly the
/// variables the module declares, passes on outputs the module has, and keeps the backend's own
/// state in the bucket under bootstrap/, apart from every workspace's.
/// </summary>
public sealed class StateBackendContractTests
{
    public static TheoryData<CloudProvider> Clouds => new() { CloudProvider.Aws, CloudProvider.AliCloud };

    private static readonly WorkspaceRunRequests Requests = new(
        Options.Create(new ProvisioningOptions { ModulesRoot = OpenTofuModule.Root }),
        Options.Create(new OpenTofuOptions { WorkRoot = Path.Combine(Path.GetTempPath(), "cogrion-contract") }),
        new Cogrion.Portal.Features.Agents.Versions.AgentRelease(Options.Create(new Cogrion.Portal.Features.Agents.AgentApiOptions())));

    private static CloudAccount Account(CloudProvider provider) => new(
        Guid.NewGuid(), Guid.NewGuid(), provider, "production", provider == CloudProvider.Aws ? "123456789012" : "1234567890123456",
        provider == CloudProvider.Aws ? "arn:aws:iam::123456789012:role/cogrion" : "acs:ram::1234567890123456:role/cogrion",
        "external-id", CloudAccountStatus.Verified, null, null, null, DateTimeOffset.UnixEpoch);

    private static string Folder(CloudProvider provider) => provider == CloudProvider.Aws ? "aws/bootstrap" : "alicloud/bootstrap";

    [Theory]
    [MemberData(nameof(Clouds))]
    public async Task The_variables_the_Portal_writes_are_exactly_those_the_bootstrap_module_declares(CloudProvider provider)
    {
        var declared = (await OpenTofuModule.LoadAsync(Folder(provider))).Variables;
        var request = Requests.StateBackendRequest(Account(provider), "eu-central-1", Guid.NewGuid());

        Assert.Equal(declared.Keys.Order(), request.Variables.Select(v => v.Key).Order());
        Assert.All(request.Variables, v => Assert.Equal("string", declared[v.Key].Type));
        Assert.Empty(request.SensitiveVariables);
    }

    [Theory]
    [MemberData(nameof(Clouds))]
    public async Task The_outputs_the_Portal_reads_are_declared_by_the_bootstrap_module_and_not_sensitive(CloudProvider provider)
    {
        var outputs = (await OpenTofuModule.LoadAsync(Folder(provider))).Outputs;
        var request = Requests.StateBackendRequest(Account(provider), "eu-central-1", Guid.NewGuid());

        Assert.All(request.Outputs, o => Assert.False(outputs[o.Name].Sensitive));
    }

    [Theory]
    [MemberData(nameof(Clouds))]
    public void The_bootstrap_starts_with_local_state_in_its_working_directory_and_moves_it_under_bootstrap_in_the_bucket(CloudProvider provider)
    {
        var account = Account(provider);
        var request = Requests.StateBackendRequest(account, "eu-central-1", Guid.NewGuid());
        var local = Assert.IsType<LocalBackend>(request.Backend);
        Assert.StartsWith(request.WorkingDirectory, local.Path);
        Assert.EndsWith(Path.Combine(provider == CloudProvider.Aws ? "aws" : "alicloud", "bootstrap"), request.ModuleSource);

        var home = Requests.StateBackendHome(account, "eu-central-1");
        var expectedBucket = provider == CloudProvider.Aws ? "cogrion-tfstate-123456789012-eu-central-1"
            : "cogrion-tfstate-1234567890123456-eu-central-1";
        switch (home)
        {
            case S3Backend s3:
                Assert.Equal((expectedBucket, "bootstrap/terraform.tfstate", "external-id"), (s3.Bucket, s3.Key, s3.Role.ExternalId));
                break;
            case OssBackend oss:
                Assert.Equal((expectedBucket, "bootstrap", "terraform.tfstate"), (oss.Bucket, oss.Prefix, oss.Key));
                break;
            default:
                Assert.Fail($"A {provider} account keeps its state in a bucket, not in {home}.");
                break;
        }
    }

    [Fact]
    public async Task The_lock_instance_the_Portal_computes_is_the_one_the_AliCloud_bootstrap_names()
    {
        // The module and WorkspaceRunRequests.LockInstance must use the same formula; the Portal
        // also checks the module's lock_endpoint output after the bootstrap applies.
        var main = await File.ReadAllTextAsync(Path.Combine(OpenTofuModule.Root, "alicloud", "bootstrap", "main.tf"));
        Assert.Contains("\"cgr-${substr(md5(\"${data.alicloud_account.current.id}/${var.region}\"), 0, 12)}\"", main);
        Assert.Contains("lock_endpoint", (await OpenTofuModule.LoadAsync("alicloud/bootstrap")).Outputs.Keys);

        var account = Account(CloudProvider.AliCloud);
        var instance = WorkspaceRunRequests.LockInstance(account, "cn-hangzhou");
        Assert.Matches("^cgr-[0-9a-f]{12}$", instance);
        var backend = Assert.IsType<OssBackend>(Requests.StateBackendHome(account, "cn-hangzhou"));
        Assert.Equal($"https://{instance}.cn-hangzhou.ots.aliyuncs.com", backend.TablestoreEndpoint);
        Assert.Equal(backend.TablestoreEndpoint, WorkspaceRunRequests.ExpectedStateBackendOutputs(account, "cn-hangzhou")["lock_endpoint"]);
    }

    [Fact]
    public void The_wizard_says_where_the_state_will_live_and_whether_the_first_run_creates_the_bucket()
    {
        var aws = Account(CloudProvider.Aws);
        var ready = new StateBackendView("eu-central-1", "cogrion-tfstate-123456789012-eu-central-1", "ready", DateTimeOffset.UnixEpoch,
            DateTimeOffset.UnixEpoch);

        Assert.Contains("first workspace in eu-central-1, so the run first creates that bucket", StateBackends.ReviewNote(aws, "eu-central-1", []));
        Assert.Contains("already has in eu-central-1", StateBackends.ReviewNote(aws, "eu-central-1", [ready]));
        // A bucket in another region, or one still being created, is not this region's backend.
        Assert.Contains("first creates that bucket", StateBackends.ReviewNote(aws, "us-east-1", [ready]));
        Assert.Contains("first creates that bucket", StateBackends.ReviewNote(aws, "eu-central-1", [ready with { Status = "creating" }]));
        Assert.Contains("cogrion-tfstate-123456789012-eu-central-1", StateBackends.ReviewNote(aws, "eu-central-1", []));
        Assert.Contains("sandbox simulator", StateBackends.ReviewNote(Account(CloudProvider.Sandbox), "sandbox-local-1", []));
    }
}
