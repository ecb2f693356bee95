using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Database;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>
/// One offboarding's progress, live: the page follows the job engine's notifications (every step ends by enqueueing the next job, and
/// every wait by enqueueing itself again), never a polling timer. Reachable by the person who started it after their membership is gone.
/// </summary>
public partial class OffboardingPage
{
    [Parameter] public Guid Id { get; set; }

    [Inject] private OffboardingDownloads Downloads { get; set; } = default!;
    [Inject] private TenantChanges Changes { get; set; } = default!;
    [Inject] private RoleChecks Roles { get; set; } = default!;
    [Inject] private MudBlazor.ISnackbar Snackbar { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    // A file, not a page: the attribute keeps Blazor's router from taking the link.
    private static readonly Dictionary<string, object?> Download = new() { ["download"] = "" };

    private bool loaded;
    private OffboardingRecord? offboarding;
    private IDisposable? updates;

    protected override async Task OnParametersSetAsync()
    {
        await ReloadAsync();
        loaded = true;
        if (!RendererInfo.IsInteractive || offboarding is null) return;
        updates?.Dispose();
        // Each step records its progress on the offboarding's row; that change (not every job in the Portal) re-reads it.
        updates = Changes.Listen(offboarding.TenantId, offboarding.Id, TimeSpan.FromMilliseconds(250),
            () => InvokeAsync(async () => { await ReloadAsync(); StateHasChanged(); }));
    }

    private async Task ReloadAsync()
    {
        var user = (await AuthenticationState).User;
        offboarding = await Downloads.VisibleAsync(Id, user, Aborted);
    }

    private async Task CheckRoleAsync(Guid accountId)
    {
        if (offboarding is null) return;
        var user = (await AuthenticationState).User;
        var result = await Roles.RequestAsync(offboarding, accountId, user.AsActor(), Aborted);
        Snackbar.Add(result.Succeeded ? "Checking: the result appears here." : "This account is no longer part of the offboarding.",
            result.Succeeded ? MudBlazor.Severity.Info : MudBlazor.Severity.Error);
    }

    private async Task DeleteSandboxRoleAsync(Guid accountId)
    {
        if (offboarding is null) return;
        var user = (await AuthenticationState).User;
        var result = await Roles.DeleteSandboxRoleAsync(offboarding, accountId, user.AsActor(), Aborted);
        Snackbar.Add(result.Succeeded ? "The sandbox cloud deleted the role." : "Only a sandbox account's role can be deleted here.",
            result.Succeeded ? MudBlazor.Severity.Success : MudBlazor.Severity.Error);
    }

    protected override void OnDisposing() => updates?.Dispose();
}
