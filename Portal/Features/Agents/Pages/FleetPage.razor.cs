using System.Text;
using Cogrion.Portal.Features.Agents.Enrollment;
using Cogrion.Portal.Features.Agents.Install;
using Cogrion.Portal.Features.Audit;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Http;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Agents.Pages;

/// <summary>The platform admins' view of every agent, and a way to install one by hand.</summary>
public partial class FleetPage
{
    /// <summary>The "install by hand" form: both ids must be UUIDs; each field says so itself.</summary>
    private sealed class InstallRequest
    {
        public string? TenantId { get; set; }
        public string? WorkspaceId { get; set; }
        public FieldErrors Errors { get; private set; } = new();

        public bool TryParse(out Guid tenant, out Guid workspace)
        {
            Errors = new FieldErrors();
            if (!Guid.TryParse(TenantId?.Trim(), out tenant)) Errors.Add("tenantId",
                "Enter the tenant's id (a UUID, shown on the workspace's page).");
            if (!Guid.TryParse(WorkspaceId?.Trim(), out workspace)) Errors.Add("workspaceId",
                "Enter the workspace's id (a UUID, shown on the workspace's page).");
            return Errors.IsEmpty;
        }
    }

    [Inject] private AgentRegistry Registry { get; set; } = default!;
    [Inject] private AgentOperations Operations { get; set; } = default!;
    [Inject] private InstallManifest Manifest { get; set; } = default!;
    [Inject] private IOptions<AgentApiOptions> Options { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [Inject] private Versions.AgentVersions Versions { get; set; } = default!;
    [Inject] private Versions.AgentRelease Release { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private FleetOverview? overview;
    private IReadOnlyList<AgentSummary> agents = [];
    private IReadOnlyList<(string Version, DateTimeOffset CurrentSince)> releases = [];
    private DateTimeOffset now;
    private readonly InstallRequest install = new();
    private string? manifest;
    private string? expiresAt;

    private string? search;

    /// <summary>The fleet is bounded (500 newest); the search narrows it in memory as the person types.</summary>
    private bool Matches(AgentSummary agent) =>
        string.IsNullOrWhiteSpace(search)
        || new[] { agent.Name, agent.AgentVersion, agent.KubernetesVersion, agent.TenantId.ToString(), agent.WorkspaceId.ToString() }
            .Any(value => value?.Contains(search.Trim(), StringComparison.OrdinalIgnoreCase) == true);

    private string ManifestDataUri => "data:application/yaml;base64," + Convert.ToBase64String(Encoding.UTF8.GetBytes(manifest ?? ""));

    protected override async Task OnInitializedAsync()
    {
        now = Time.GetUtcNow();
        overview = await Registry.FleetOverviewAsync(Aborted);
        agents = await Registry.ListFleetAsync(500, Aborted);
        releases = await Versions.ReleasesAsync(Aborted);
    }

    private Versions.AgentVersionStatus VersionOf(AgentSummary agent)
        => Agents.Versions.AgentVersionStatus.Of(agent.AgentVersion, Release.Current.Version, releases, now);

    private async Task MintAsync()
    {
        manifest = null;
        if (!install.TryParse(out var tenant, out var workspace)) return;
        var user = (await AuthenticationState).User;
        var actor = user.AsActor();
        var minted = await Operations.MintBootstrapTokenAsync(tenant, workspace, actor, Aborted);
        if (minted.IsNotFound)
        {
            install.Errors.Add("workspaceId", "No workspace with that id exists in that tenant: copy both ids from the workspace's page.");
            return;
        }
        var token = minted.Value!;
        var portalUrl = string.IsNullOrWhiteSpace(Options.Value.PublicUrl) ? Navigation.BaseUri.TrimEnd('/') : Options.Value.PublicUrl;
        manifest = Manifest.Render(token, portalUrl);
        expiresAt = token.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm");
    }
}
