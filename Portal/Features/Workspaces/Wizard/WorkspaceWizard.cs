using System.Text.Json;
using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Workspaces.KubernetesVersions;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.Workspaces.Wizard;

/// <summary>
/// The workspace wizard without its page: six steps, each checked with <see cref="WorkspaceRules"/>
/// (the fields of that step only) before the next opens; a step's errors never show fields of a
/// later one. Create checks everything again inside the creating transaction.
/// </summary>
public sealed class WorkspaceWizard
{
    public const int AccountStep = 0;
    public const int RegionStep = 1;
    public const int NameStep = 2;
    public const int NodesStep = 3;
    public const int DatabaseStep = 4;
    public const int ReviewStep = 5;

    public static readonly IReadOnlyList<string> StepTitles = ["Cloud account", "Region", "Name and network", "Nodes", "Database", "Review"];

    /// <summary>The rule fields each step owns (index = step); a field "nodePools" owns "nodePools[0].name" too.</summary>
    private static readonly string[][] StepFields =
    [
        ["cloudAccountId"], ["region"], ["name", "networkCidr", "kubernetesVersion"], ["useKarpenter", "nodePools"], ["database"], [],
    ];

    /// <summary>Suggested networks are private /16s from 10.40.0.0 up, clear of the platform's own ranges below.</summary>
    private const int FirstSuggestedSecondOctet = 40;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private readonly Guid tenantId;
    private readonly string tenantDomain;
    private readonly IWorkspaceWizardQueries queries;
    private readonly KubernetesVersionPolicy versions;

    public WorkspaceWizard(Guid tenantId, string tenantDomain, IReadOnlyList<CloudAccount> accounts, IWorkspaceWizardQueries queries,
        KubernetesVersionPolicy versions)
    {
        this.tenantId = tenantId;
        this.tenantDomain = tenantDomain;
        this.queries = queries;
        this.versions = versions;
        Accounts = accounts;
        // Unverified accounts are listed too, so the person sees why they cannot be used; a verified one is chosen first.
        if ((accounts.FirstOrDefault(a => a.IsVerified) ?? accounts.FirstOrDefault()) is { } first) SelectAccount(first.Id);
    }

    public IReadOnlyList<CloudAccount> Accounts { get; }
    public WorkspaceWizardModel Model { get; } = new();
    public int Step { get; private set; }
    public FieldErrors Errors { get; private set; } = new();
    public string? StateBackendNote { get; private set; }

    public CloudAccount? SelectedAccount => Accounts.FirstOrDefault(a => a.Id == Model.AccountId);
    public CloudProvider Provider => SelectedAccount?.Provider ?? CloudProvider.Sandbox;
    public IReadOnlyList<CloudRegion> Regions => CloudRegions.For(Provider);
    public IReadOnlyList<string> InstanceTypes => WorkspaceCatalog.InstanceTypes(Provider);
    public IReadOnlyList<string> Engines => WorkspaceCatalog.DatabaseEngines(Provider);
    public IReadOnlyList<DatabaseSize> Sizes => WorkspaceCatalog.DatabaseSizes(Provider);
    public bool SupportsKarpenter => WorkspaceCatalog.SupportsKarpenter(Provider);

    /// <summary>The Kubernetes versions in standard support on the chosen provider today, newest first.</summary>
    public IReadOnlyList<string> KubernetesVersions => versions.Offered(Provider);

    /// <summary>Whose calendar the versions come from ("Amazon EKS"; the sandbox says it follows EKS).</summary>
    public string KubernetesPlatform => versions.PlatformOf(Provider);
    public bool IsSimulated => SelectedAccount?.Provider == CloudProvider.Sandbox;
    public bool CanAddPool => Model.NodePools.Count < WorkspaceCatalog.MaxNodePools;
    public bool IsLastStep => Step == ReviewStep;

    /// <summary>The folder under terraform/ the run calls.</summary>
    public string ModuleFolder => Provider == CloudProvider.AliCloud ? "alicloud" : "aws";

    public string Domain => $"{(string.IsNullOrEmpty(Model.Name) ? "<name>" : Model.Name.Trim())}.{tenantDomain}";

    public void SelectAccount(Guid id)
    {
        Model.AccountId = id;
        // Choices that depend on the provider start again from its first offer.
        Model.Region = Regions[0].Code;
        foreach (var pool in Model.NodePools) pool.InstanceType = InstanceTypes[0];
        if (!SupportsKarpenter) Model.UseKarpenter = false;
        if (!Engines.Contains(Model.DatabaseEngine)) Model.DatabaseEngine = Engines[0];
        if (!Sizes.Any(s => s.Key == Model.DatabaseSize)) Model.DatabaseSize = Sizes[0].Key;
        // The newest version in standard support on this provider today.
        Model.KubernetesVersion = versions.DefaultFor(Provider);
        Model.NetworkCidr = null;
    }

    public void AddPool()
    {
        if (!CanAddPool) return;
        Model.NodePools.Add(new NodePoolModel
        {
            Name = $"pool-{Model.NodePools.Count + 1}",
            InstanceType = InstanceTypes[0],
            MinSize = 1,
            MaxSize = 3
        });
    }

    public void RemovePool(int index)
    {
        if (Model.NodePools.Count > 1 && index >= 0 && index < Model.NodePools.Count) Model.NodePools.RemoveAt(index);
    }

    /// <summary>What the wizard asks for, as the rules and the create command read it.</summary>
    public NewWorkspace Input() => new()
    {
        CloudAccountId = Model.AccountId,
        Region = Model.Region,
        Name = Model.Name?.Trim(),
        NetworkCidr = Model.NetworkCidr?.Trim(),
        KubernetesVersion = Model.KubernetesVersion,
        UseKarpenter = Model.UseKarpenter,
        NodePools = Model.UseKarpenter ? [] : Model.NodePools.Select(p => new NodePoolInput(p.Name.Trim(), p.InstanceType, p.MinSize, p.MaxSize))
            .ToList(),
        Database = Model.WithDatabase ? new DatabaseInput(Model.DatabaseEngine, Model.DatabaseSize) : null,
        ApprovalMode = Model.ApprovalMode,
    };

    /// <summary>Only steps already reached can be opened again; later ones open through <see cref="NextAsync"/>.</summary>
    public bool CanVisit(int step) => step >= 0 && step <= Step;

    public bool Visit(int step)
    {
        if (!CanVisit(step)) return false;
        Step = step;
        Errors = new FieldErrors();
        return true;
    }

    public bool Back() => Visit(Step - 1);

    /// <summary>Checks the open step's fields and opens the next step when they pass; false (with <see cref="Errors"/>) when not.</summary>
    public async Task<bool> NextAsync(CancellationToken cancellationToken)
    {
        if (IsLastStep) return false;
        Errors = ErrorsOfStep(Step, await CheckAllAsync(cancellationToken));
        if (!Errors.IsEmpty) return false;
        Step++;
        // Suggest a free range once the account and region are known.
        if (Step == NameStep && string.IsNullOrEmpty(Model.NetworkCidr))
        {
            var (networks, _) = await queries.RuleInputsAsync(tenantId, Model.AccountId, Model.Region, null, cancellationToken);
            Model.NetworkCidr = FreeNetwork(networks);
        }
        if (Step == ReviewStep && SelectedAccount is { } account && Model.Region is { } region)
            StateBackendNote = await queries.StateBackendNoteAsync(tenantId, account, region, cancellationToken);
        return true;
    }

    /// <summary>Errors the create command returned: shown on the review step, every field at once.</summary>
    public void ShowErrors(FieldErrors errors) => Errors = errors;

    /// <summary>The exact variables the run will use (the workspace id is assigned when created; no bootstrap token).</summary>
    public string ReviewJson()
    {
        if (SelectedAccount is null) return "";
        var variables = queries.PreviewVariables(tenantId, Provider, Input());
        variables["workspace_id"] = "(assigned when created)";
        return variables.ToJsonString(Indented);
    }

    /// <summary>The errors among <paramref name="all"/> that belong to <paramref name="step"/>.</summary>
    public static FieldErrors ErrorsOfStep(int step, FieldErrors all)
    {
        var errors = new FieldErrors();
        foreach (var (field, messages) in all.ToDictionary())
            if (StepFields[step]
                .Any(prefix => field == prefix || field.StartsWith(prefix + "[", StringComparison.Ordinal)
                || field.StartsWith(prefix + ".", StringComparison.Ordinal)))
                foreach (var message in messages) errors.Add(field, message);
        return errors;
    }

    /// <summary>The first private /16 (10.40.0.0/16 upward) that overlaps none of <paramref name="taken"/>; empty when all are used.</summary>
    public static string FreeNetwork(IReadOnlyList<string> taken)
    {
        for (var second = FirstSuggestedSecondOctet; second < 256; second++)
        {
            var candidate = $"10.{second}.0.0/16";
            if (WorkspaceRules.CheckOverlap(candidate, taken) is null) return candidate;
        }
        return "";
    }

    private async Task<FieldErrors> CheckAllAsync(CancellationToken cancellationToken)
    {
        var input = Input();
        var (networks, taken) = await queries.RuleInputsAsync(tenantId, input.CloudAccountId, input.Region, input.Name, cancellationToken);
        return WorkspaceRules.Check(input, SelectedAccount, networks, taken, versions);
    }
}

/// <summary>What the wizard's fields hold.</summary>
public sealed class WorkspaceWizardModel
{
    public Guid? AccountId { get; set; }
    public string? Region { get; set; }
    public string? Name { get; set; }
    public string? NetworkCidr { get; set; }
    /// <summary>Set from the provider's calendar when an account is chosen (the newest in standard support).</summary>
    public string? KubernetesVersion { get; set; }
    public bool UseKarpenter { get; set; }
    public List<NodePoolModel> NodePools { get; } = [new()];
    public bool WithDatabase { get; set; }
    public string DatabaseEngine { get; set; } = "postgres";
    public string DatabaseSize { get; set; } = "small";
    public ApprovalMode ApprovalMode { get; set; } = ApprovalMode.Manual;
}

public sealed class NodePoolModel
{
    public string Name { get; set; } = "default";
    public string InstanceType { get; set; } = "";
    public int MinSize { get; set; } = 2;
    public int MaxSize { get; set; } = 5;
}
