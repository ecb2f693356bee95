using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Cogrion.Portal.Features.Workspaces.KubernetesVersions;

/// <summary>
/// The warning a workspace page shows when its Kubernetes version is near or past the end of standard
/// support, with "Upgrade Kubernetes to X" (the next minor version only) for those who may start runs.
/// </summary>
public partial class KubernetesVersionNotice
{
    [Parameter, EditorRequired] public KubernetesVersionStanding Standing { get; set; } = default!;

    /// <summary>The person may start runs, and no run is at work on the workspace.</summary>
    [Parameter] public bool CanUpgrade { get; set; }

    [Parameter] public EventCallback Upgrade { get; set; }

    private bool busy;

    private Severity Severity => Standing.Support is KubernetesSupport.EndingSoon ? Severity.Warning : Severity.Error;

    private string NextStep => Standing.UpgradeTo is { } target
        ? $"Upgrade one minor version at a time: next is {target}, through a plan you review before it applies."
        : $"{Standing.Platform} has released no newer version yet.";

    private async Task UpgradeAsync()
    {
        busy = true;
        try
        {
            await Upgrade.InvokeAsync();
        }
        finally
        {
            busy = false;
        }
    }
}
