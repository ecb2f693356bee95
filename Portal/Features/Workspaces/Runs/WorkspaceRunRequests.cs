using System.Text.Json.Nodes;
using Cogrion.Portal.Features.Agents.Versions;
using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Modules;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Workspaces.Runs;

/// <summary>
/// Turns a workspace into what the runner needs: the module's variables (the review step shows the
/// same ones), the role, the state backend and a working directory that the plan job and the apply
/// job of one run share.
/// </summary>
public sealed class WorkspaceRunRequests(IOptions<ProvisioningOptions> provisioning, IOptions<OpenTofuOptions> tofu, AgentRelease agents)
{
    /// <summary>Shown wherever the token would be: the review step, tests. Never sent to a run.</summary>
    public const string TokenPlaceholder = "(minted when the run starts)";

    public ModuleVariables Variables(Workspace workspace, SensitiveString bootstrapToken) =>
        Build(new ModuleShape(workspace.TenantId, workspace.Id, workspace.Name, workspace.Provider, workspace.Region, workspace.NetworkCidr,
            workspace.KubernetesVersion, workspace.NodePools, workspace.UseKarpenter, workspace.Database), bootstrapToken);

    /// <summary>
    /// The variables a workspace asked for in the wizard would run with, before it exists: what the review step
    /// shows. The workspace id is not known yet (empty) and the token is the placeholder.
    /// </summary>
    public ModuleVariables Preview(Guid tenantId, CloudProvider provider, NewWorkspace input) =>
        Build(new ModuleShape(tenantId, Guid.Empty, input.Name ?? "", provider, input.Region ?? "", input.NetworkCidr ?? "",
            input.KubernetesVersion ?? "", input.NodePools, input.UseKarpenter, input.Database), new SensitiveString(TokenPlaceholder));

    /// <summary>What the module needs to know of a workspace, stored or only asked for.</summary>
    private sealed record ModuleShape(
        Guid TenantId, Guid WorkspaceId, string Name, CloudProvider Provider, string Region, string NetworkCidr, string KubernetesVersion,
        IReadOnlyList<NodePoolInput> NodePools, bool UseKarpenter, DatabaseInput? Database);

    private ModuleVariables Build(ModuleShape workspace, SensitiveString bootstrapToken)
    {
        var options = provisioning.Value;
        var sizes = WorkspaceCatalog.DatabaseSizes(workspace.Provider);
        return new ModuleVariables
        {
            TenantId = workspace.TenantId,
            WorkspaceId = workspace.WorkspaceId,
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
            // The Portal's current agent, pinned by version (and digest where known); the agent upgrades itself afterwards.
            AgentImage = agents.Current.ToString(),
            PortalUrl = options.PortalUrl,
            AgentBootstrapToken = bootstrapToken,
        };
    }

    public string WorkingDirectory(Workspace workspace, Guid runId) =>
        Path.Combine(tofu.Value.WorkRoot, "workspaces", workspace.Id.ToString("n"), runId.ToString("n"));

    public TofuRunRequest Request(Workspace workspace, CloudAccount account, Guid runId, RunKind kind, ModuleVariables? variables)
    {
        var provider = ProviderOf(workspace.Provider);
        var role = new AssumedRole(account.RoleArn, account.ExternalId, $"cogrion-{workspace.Name}");
        TofuBackend backend = provider == TofuProvider.Sandbox
            ? new LocalBackend(Path.Combine(provisioning.Value.SandboxStateRoot, workspace.Id.ToString("n"), "terraform.tfstate"))
            : BucketBackend(provider, account, workspace.Region, $"workspaces/{workspace.Id}", role);
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

    /// <summary>The bucket that holds every workspace's state in this account and region (ADR 0041), named so the Portal never has to look it
    /// up.</summary>
    public static string StateBucket(CloudAccount account, string region) => $"cogrion-tfstate-{account.AccountRef}-{region}";

    /// <summary>
    /// The Tablestore instance that holds the OSS backend's lock table, as terraform/alicloud/bootstrap
    /// names it: <c>cgr-</c> and 12 hex digits of md5("&lt;account&gt;/&lt;region&gt;"). Instance names are
    /// unique per region across all of AliCloud, and at most 16 characters, hence a digest.
    /// </summary>
    public static string LockInstance(CloudAccount account, string region) =>
        "cgr-" + Convert.ToHexStringLower(
            System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes($"{account.AccountRef}/{region}")))[..12];

    /// <summary>The OSS backend's <c>tablestore_endpoint</c>: its first host label is the instance name.</summary>
    public static string LockEndpoint(CloudAccount account, string region) => $"https://{LockInstance(account, region)}.{region}.ots.aliyuncs.com";

    /// <summary>
    /// The run that creates the state backend of an account and region: terraform/&lt;cloud&gt;/bootstrap,
    /// applied with its state in the working directory (the bucket does not exist yet), then moved to
    /// <see cref="StateBackendHome"/>.
    /// </summary>
    public TofuRunRequest StateBackendRequest(CloudAccount account, string region, Guid runId)
    {
        var provider = ProviderOf(account.Provider);
        var workingDirectory = Path.Combine(tofu.Value.WorkRoot, "state-backends", $"{account.Id:n}-{region}", runId.ToString("n"));
        return new TofuRunRequest
        {
            WorkingDirectory = workingDirectory,
            ModuleSource = ModuleSource(provider, "bootstrap"),
            Provider = provider,
            Region = region,
            Role = StateBackendRole(account),
            Backend = new LocalBackend(Path.Combine(workingDirectory, StateBackendLocalState)),
            Variables = new JsonObject
            {
                ["tenant_id"] = account.TenantId.ToString(),
                ["cloud_account_id"] = account.Id.ToString(),
                ["region"] = region,
            },
            Outputs = ExpectedStateBackendOutputs(account, region).Keys.Append("state_bucket").Append("state_region").Distinct()
                .Select(name => new TofuOutputDeclaration(name)).ToList(),
        };
    }

    /// <summary>
    /// What the bootstrap's outputs must say for the Portal's computed names to be right: the bucket,
    /// and on AliCloud the lock endpoint. The sandbox names its simulated bucket itself.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ExpectedStateBackendOutputs(CloudAccount account, string region) => account.Provider switch
    {
        CloudProvider.Aws => new Dictionary<string, string> { ["state_bucket"] = StateBucket(account, region) },
        CloudProvider.AliCloud => new Dictionary<string, string>
        {
            ["state_bucket"] = StateBucket(account, region),
            ["lock_endpoint"] = LockEndpoint(account, region),
        },
        _ => new Dictionary<string, string>(),
    };

    /// <summary>The file in the bootstrap's working directory that holds its state until it moves into the bucket.</summary>
    public const string StateBackendLocalState = "bootstrap.tfstate";

    /// <summary>Where the state backend keeps its own state once the bucket exists: in the bucket, under bootstrap/.</summary>
    public TofuBackend StateBackendHome(CloudAccount account, string region)
    {
        var provider = ProviderOf(account.Provider);
        return provider == TofuProvider.Sandbox
            ? new LocalBackend(Path.Combine(provisioning.Value.SandboxStateRoot, "backends", $"{account.AccountRef}-{region}", "terraform.tfstate"))
            : BucketBackend(provider, account, region, "bootstrap", StateBackendRole(account));
    }

    /// <summary>
    /// The session names the account, so the tenant's own audit log (CloudTrail, ActionTrail) says which
    /// of its accounts in the Portal the backend was made for.
    /// </summary>
    private static AssumedRole StateBackendRole(CloudAccount account)
        => new(account.RoleArn, account.ExternalId, SessionName("cogrion-backend-" + account.Name));

    /// <summary>Session names allow letters, digits and <c>+=,.@-</c>, at most 64 characters (STS and RAM alike).</summary>
    private static string SessionName(string text)
    {
        var allowed = new string(text.Select(c => char.IsAsciiLetterOrDigit(c) || "+=,.@-".Contains(c) ? c : '-').ToArray());
        return allowed.Length <= 64 ? allowed : allowed[..64];
    }

    /// <summary>A state file in the account's state bucket: S3 (locked by a lock file) or OSS (locked through Tablestore).</summary>
    private static TofuBackend BucketBackend(TofuProvider provider, CloudAccount account, string region, string prefix, AssumedRole role)
        => provider switch
        {
            TofuProvider.Aws => new S3Backend(StateBucket(account, region), $"{prefix}/terraform.tfstate", region, role),
            TofuProvider.AliCloud => new OssBackend(StateBucket(account, region), prefix, "terraform.tfstate", region,
                LockEndpoint(account, region), "cogrion_tfstate_locks"),
            _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "The sandbox keeps its state in local files."),
        };

    private static TofuProvider ProviderOf(CloudProvider provider) => provider switch
    {
        CloudProvider.Aws => TofuProvider.Aws,
        CloudProvider.AliCloud => TofuProvider.AliCloud,
        _ => TofuProvider.Sandbox,
    };

    private string ModuleSource(TofuProvider provider, string? submodule = null)
    {
        // The sandbox simulates the AWS stack; of the module it reads only the Cluster Agent's install
        // template. A stand-in directory is enough when the image carries no terraform/ (then the
        // sandbox's plan fails as OpenTofu would, naming the missing template).
        var path = Path.Combine(provisioning.Value.ModulesRoot, provider == TofuProvider.AliCloud ? "alicloud" : "aws", submodule ?? "");
        if (provider == TofuProvider.Sandbox && !Directory.Exists(path))
        {
            path = Path.Combine(tofu.Value.WorkRoot, "sandbox-module", submodule ?? "");
            Directory.CreateDirectory(path);
        }
        return Path.TrimEndingDirectorySeparator(path);
    }
}
