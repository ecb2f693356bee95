using System.Text.Json;
using Microsoft.AspNetCore.Components;
using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Onboarding;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Features.Workspaces.Modules;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.Workspaces;

/// <summary>
/// The workspace wizard. Each step is checked with <see cref="WorkspaceRules"/> (the fields of that
/// step only) before the next opens; Create checks everything again inside the creating transaction.
/// </summary>
public partial class WorkspaceWizardPage
{
    private const int LastStep = 5;

    /// <summary>Which rule fields each step owns (index = step).</summary>
    private static readonly string[][] StepFields =
    [
        ["cloudAccountId"], ["region"], ["name", "networkCidr", "kubernetesVersion"], ["useKarpenter", "nodePools"], ["database"], [],
    ];

    [Inject] private CloudAccountStore Accounts { get; set; } = default!;
    [Inject] private WorkspaceStore Store { get; set; } = default!;
    [Inject] private WorkspaceCommands Commands { get; set; } = default!;
    [Inject] private WorkspaceRunRequests Requests { get; set; } = default!;
    [Inject] private OnboardingStore Onboarding { get; set; } = default!;
    [Inject] private StateBackends Backends { get; set; } = default!;
    [SupplyParameterFromQuery(Name = "onboarding")] public int? FromOnboarding { get; set; }

    private IReadOnlyList<CloudAccount>? accounts;
    private readonly WizardModel model = new();
    private FieldErrors errors = new();
    private int step;
    private bool busy;
    private string? stateBackendNote;

    private sealed class PoolModel
    {
        public string Name { get; set; } = "default";
        public string InstanceType { get; set; } = "";
        public int MinSize { get; set; } = 2;
        public int MaxSize { get; set; } = 5;
    }

    private sealed class WizardModel
    {
        public Guid? AccountId { get; set; }
        public string? Region { get; set; }
        public string? Name { get; set; }
        public string? NetworkCidr { get; set; }
        public string KubernetesVersion { get; set; } = WorkspaceCatalog.KubernetesVersions[0];
        public bool UseKarpenter { get; set; }
        public List<PoolModel> NodePools { get; } = [new()];
        public bool WithDatabase { get; set; }
        public string DatabaseEngine { get; set; } = "postgres";
        public string DatabaseSize { get; set; } = "small";
        public ApprovalMode ApprovalMode { get; set; } = ApprovalMode.Manual;
    }

    private CloudAccount? SelectedAccount => accounts?.FirstOrDefault(a => a.Id == model.AccountId);
    private CloudProvider Provider => SelectedAccount?.Provider ?? CloudProvider.Sandbox;
    private IReadOnlyList<CloudRegion> Regions => CloudRegions.For(Provider);
    private IReadOnlyList<string> InstanceTypes => WorkspaceCatalog.InstanceTypes(Provider);
    private IReadOnlyList<string> Engines => WorkspaceCatalog.DatabaseEngines(Provider);
    private IReadOnlyList<DatabaseSize> Sizes => WorkspaceCatalog.DatabaseSizes(Provider);
    private string ModuleFolder => Provider == CloudProvider.AliCloud ? "alicloud" : "aws";

    protected override async Task OnTenantReadyAsync()
    {
        // Unverified accounts are listed too, so the person sees why they cannot be used.
        accounts = await Accounts.ListAsync(Current.TenantId, CancellationToken.None);
        if ((accounts.FirstOrDefault(a => a.IsVerified) ?? accounts.FirstOrDefault()) is { } first) SelectAccount(first.Id);
    }

    private void OnAccountChanged(ChangeEventArgs e)
    {
        if (Guid.TryParse(e.Value?.ToString(), out var id)) SelectAccount(id);
    }

    private void SelectAccount(Guid id)
    {
        model.AccountId = id;
        // Choices that depend on the provider start again from its first offer.
        model.Region = Regions[0].Code;
        foreach (var pool in model.NodePools) pool.InstanceType = InstanceTypes[0];
        if (!WorkspaceCatalog.SupportsKarpenter(Provider)) model.UseKarpenter = false;
        if (!Engines.Contains(model.DatabaseEngine)) model.DatabaseEngine = Engines[0];
        model.NetworkCidr = null;
    }

    private void AddPool() => model.NodePools.Add(new PoolModel { Name = $"pool-{model.NodePools.Count + 1}", InstanceType = InstanceTypes[0], MinSize = 1, MaxSize = 3 });

    private NewWorkspace Input() => new()
    {
        CloudAccountId = model.AccountId,
        Region = model.Region,
        Name = model.Name?.Trim(),
        NetworkCidr = model.NetworkCidr?.Trim(),
        KubernetesVersion = model.KubernetesVersion,
        UseKarpenter = model.UseKarpenter,
        NodePools = model.UseKarpenter ? [] : model.NodePools.Select(p => new NodePoolInput(p.Name.Trim(), p.InstanceType, p.MinSize, p.MaxSize)).ToList(),
        Database = model.WithDatabase ? new DatabaseInput(model.DatabaseEngine, model.DatabaseSize) : null,
        ApprovalMode = model.ApprovalMode,
    };

    private async Task<FieldErrors> CheckAsync()
    {
        var input = Input();
        var (networks, taken) = await Store.RuleInputsAsync(Current.TenantId, input.CloudAccountId, input.Region, input.Name, CancellationToken.None);
        return WorkspaceRules.Check(input, SelectedAccount, networks, taken);
    }

    private async Task NextAsync()
    {
        busy = true;
        try
        {
            var all = await CheckAsync();
            errors = new FieldErrors();
            foreach (var (field, messages) in all.ToDictionary())
                if (StepFields[step].Any(prefix => field == prefix || field.StartsWith(prefix + "[", StringComparison.Ordinal)))
                    foreach (var message in messages) errors.Add(field, message);
            if (!errors.IsEmpty) return;
            step++;
            // Suggest a free range once the account and region are known.
            if (step == 2 && string.IsNullOrEmpty(model.NetworkCidr)) model.NetworkCidr = await SuggestNetworkAsync();
            if (step == LastStep) stateBackendNote = await StateBackendNoteAsync();
        }
        finally
        {
            busy = false;
        }
    }

    private async Task<string> SuggestNetworkAsync()
    {
        var (networks, _) = await Store.RuleInputsAsync(Current.TenantId, model.AccountId, model.Region, null, CancellationToken.None);
        for (var second = 40; second < 256; second++)
        {
            var candidate = $"10.{second}.0.0/16";
            if (WorkspaceRules.CheckOverlap(candidate, networks) is null) return candidate;
        }
        return "";
    }

    /// <summary>Where the workspace's state will live, and whether this run also creates that place (ADR 0041).</summary>
    private async Task<string?> StateBackendNoteAsync()
    {
        if (SelectedAccount is not { } account || model.Region is not { } region) return null;
        return StateBackends.ReviewNote(account, region, await Backends.ListAsync(Current.TenantId, account.Id, CancellationToken.None));
    }

    private string ReviewJson
    {
        get
        {
            if (SelectedAccount is null) return "";
            var preview = new Workspace(Guid.Empty, Current.TenantId, model.Name ?? "", SelectedAccount.Id, Provider, model.Region ?? "", model.NetworkCidr ?? "",
                model.KubernetesVersion, Input().NodePools, model.UseKarpenter, Input().Database, model.ApprovalMode, WorkspaceStatus.Pending, null, null, "", default, default);
            var variables = Requests.Variables(preview, new SensitiveString(WorkspaceRunRequests.TokenPlaceholder)).ToPublicTfvars();
            // The workspace id is assigned at creation.
            variables["workspace_id"] = "(assigned when created)";
            return variables.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        }
    }

    private async Task CreateAsync()
    {
        busy = true;
        try
        {
            var result = await Commands.CreateAsync(Current.TenantId, Input(), User.AsActor(), CancellationToken.None);
            if (!result.Succeeded)
            {
                errors = result.Errors;
                return;
            }
            if (FromOnboarding == 1 && User.GetUserId() is { } userId)
                await Onboarding.CompleteStepAsync(userId, FirstWorkspaceStep.StepKey, Current.TenantId, null, CancellationToken.None);
            Navigation.NavigateTo($"t/{Current.Slug}/workspaces/{result.Value!.Name}");
        }
        finally
        {
            busy = false;
        }
    }
}
