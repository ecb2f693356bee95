using Microsoft.Extensions.Options;
using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Provisioning.Modules;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Infrastructure.OpenTofu;

namespace Cogrion.Portal.Features.Provisioning;

/// <summary>
/// Turns a workspace into what the runner needs: the module's variables (the review step shows the
/// same ones), the role, the state backend and a working directory that the plan job and the apply
/// job of one run share.
/// </summary>
public sealed class WorkspaceRunRequests(IOptions<ProvisioningOptions> provisioning, IOptions<OpenTofuOptions> tofu)
{
    /// <summary>Shown wherever the token would be: the review step, tests. Never sent to a run.</summary>
    public const string TokenPlaceholder = "(minted when the run starts)";

    public ModuleVariables Variables(Workspace workspace, SensitiveString bootstrapToken)
    {
        var options = provisioning.Value;
        var sizes = WorkspaceCatalog.DatabaseSizes(workspace.Provider);
        return new ModuleVariables
        {
            TenantId = workspace.TenantId,
            WorkspaceId = workspace.Id,
            WorkspaceName = workspace.Name,
            Region = workspace.Region,
            NetworkCidr = workspace.NetworkCidr,
            KubernetesVersion = workspace.KubernetesVersion,
            NodePools = workspace.NodePools.Select(p => new NodePool(p.Name, p.InstanceType, p.MinSize, p.MaxSize)).ToList(),
            UseKarpenter = workspace.UseKarpenter,
            Database = workspace.Database is { } db && sizes.FirstOrDefault(s => s.Key == db.Size) is { } size
                ? new DatabaseSpec(db.Engine, size.InstanceClass, size.StorageGb) : null,
            // Off for the sandbox and until a confirmed destroy turns it off: the cloud guards the data.
            DeletionProtection = workspace.Provider != CloudProvider.Sandbox,
            ApiAllowedCidrs = options.ApiAllowedCidrs,
            AgentImage = options.AgentImage,
            PortalUrl = options.PortalUrl,
            AgentBootstrapToken = bootstrapToken,
        };
    }

    public string WorkingDirectory(Workspace workspace, Guid runId) =>
        Path.Combine(tofu.Value.WorkRoot, "workspaces", workspace.Id.ToString("n"), runId.ToString("n"));

    public TofuRunRequest Request(Workspace workspace, CloudAccount account, Guid runId, RunKind kind, ModuleVariables? variables)
    {
        var provider = workspace.Provider switch
        {
            CloudProvider.Aws => TofuProvider.Aws,
            CloudProvider.AliCloud => TofuProvider.AliCloud,
            _ => TofuProvider.Sandbox,
        };
        var role = new AssumedRole(account.RoleArn, account.ExternalId, $"cogrion-{workspace.Name}");
        var stateKey = $"workspaces/{workspace.Id}/terraform.tfstate";
        TofuBackend backend = provider switch
        {
            // Names computed from the account and region, as terraform/<cloud>/bootstrap creates them (ADR 0041).
            TofuProvider.Aws => new S3Backend($"cogrion-tfstate-{account.AccountRef}-{workspace.Region}", stateKey, workspace.Region, role),
            TofuProvider.AliCloud => new OssBackend($"cogrion-tfstate-{account.AccountRef}-{workspace.Region}", $"workspaces/{workspace.Id}", "terraform.tfstate", workspace.Region,
                $"https://cogrion-tfstate.{workspace.Region}.ots.aliyuncs.com", "cogrion_tfstate_locks", role),
            _ => new LocalBackend(Path.Combine(provisioning.Value.SandboxStateRoot, workspace.Id.ToString("n"), "terraform.tfstate")),
        };
        return new TofuRunRequest
        {
            WorkingDirectory = WorkingDirectory(workspace, runId),
            ModuleSource = ModuleSource(provider),
            Provider = provider,
            Region = workspace.Region,
            Role = role,
            Backend = backend,
            Operation = kind == RunKind.Destroy ? TofuOperation.Destroy : TofuOperation.Apply,
            // The apply job applies the saved plan: it needs no variables (the plan holds them).
            Variables = variables?.ToPublicTfvars() ?? [],
            SensitiveVariables = variables?.ToSensitiveTfvars() ?? [],
            Outputs = ModuleOutputs.Declared.Select(name => new TofuOutputDeclaration(name)).ToList(),
        };
    }

    private string ModuleSource(TofuProvider provider)
    {
        // The sandbox simulates the AWS stack and never reads the module: a stand-in directory is
        // enough when the image carries no terraform/ (development, tests).
        var path = Path.Combine(provisioning.Value.ModulesRoot, provider == TofuProvider.AliCloud ? "alicloud" : "aws");
        if (provider == TofuProvider.Sandbox && !Directory.Exists(path))
        {
            path = Path.Combine(tofu.Value.WorkRoot, "sandbox-module");
            Directory.CreateDirectory(path);
        }
        return path;
    }
}
