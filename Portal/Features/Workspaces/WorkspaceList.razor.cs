using Cogrion.Portal.Components;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Features.Workspaces.KubernetesVersions;
using Cogrion.Portal.Infrastructure.Database;
using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Features.Workspaces;

public partial class WorkspaceList
{
    [Inject] private WorkspaceStore Store { get; set; } = default!;
    [Inject] private TenantChanges Changes { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [Inject] private KubernetesVersionPolicy VersionPolicy { get; set; } = default!;
    [Inject] private Apps.WorkspaceApps WorkspaceApps { get; set; } = default!;

    [Parameter, EditorRequired] public TenantContext Context { get; set; } = default!;

    private IReadOnlyList<WorkspaceSummary>? workspaces;
    private Dictionary<Guid, IReadOnlyList<Apps.WorkspaceAppView>> apps = [];
    private IDisposable? updates;

    private bool CanCreate => Context.Can(TenantRole.Operator);

    protected override async Task OnInitializedAsync()
    {
        await LoadAsync();
        // Only the live circuit follows changes: a prerendered copy is thrown away after the response.
        if (!RendererInfo.IsInteractive) return;
        // Changes of this tenant's workspaces and runs only: another tenant's work costs this page nothing.
        updates = Changes.Listen(Context.TenantId, subjectId: null, TimeSpan.FromSeconds(1),
            () => InvokeAsync(async () => { await LoadAsync(); StateHasChanged(); }));
    }

    private async Task LoadAsync()
    {
        var found = await Store.ListAsync(Context.TenantId, includeDestroyed: false, Aborted);
        // The apps of every workspace at a glance; a tenant has few workspaces, so one small query each.
        var appsOf = new Dictionary<Guid, IReadOnlyList<Apps.WorkspaceAppView>>();
        foreach (var item in found)
            appsOf[item.Workspace.Id] = await WorkspaceApps.ListAsync(Context.TenantId, item.Workspace.Id, Aborted);
        (workspaces, apps) = (found, appsOf);
    }

    private string AgentHealth(WorkspaceSummary item) => WorkspaceAgentHealth.Describe(item, Time.GetUtcNow());

    /// <summary>A short warning when the workspace's Kubernetes version is near or past the end of standard support; null otherwise.</summary>
    private string? KubernetesWarning(Workspace workspace)
    {
        if (workspace.Outputs is null) return null;
        var standing = VersionPolicy.StandingOf(workspace.Provider, workspace.KubernetesVersion);
        return standing.Support switch
        {
            KubernetesSupport.EndingSoon => $"Kubernetes {standing.Version}: standard support ends in {standing.DaysLeft} days",
            KubernetesSupport.Extended or KubernetesSupport.Ended => $"Kubernetes {standing.Version}: past standard support",
            KubernetesSupport.Unknown => $"Kubernetes {standing.Version}: not in the provider's calendar",
            _ => null,
        };
    }

    protected override void OnDisposing() => updates?.Dispose();
}
