using Cogrion.Portal.Infrastructure.Audit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Options;
using MudBlazor;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>The platform admins' view of offboardings whose tenant metadata is still in the Portal (running, or awaiting the purge).</summary>
public partial class PendingPurgesPage
{
    [Inject] private OffboardingStore Store { get; set; } = default!;
    [Inject] private IOptions<OffboardingOptions> Options { get; set; } = default!;
    [Inject] private OffboardingCommands Commands { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private IReadOnlyList<OffboardingRecord>? pending;

    private int RetentionDays => (int)Math.Round(Options.Value.PurgeRetention.TotalDays);

    protected override async Task OnInitializedAsync() => pending = await Store.PendingPurgesAsync(Aborted);

    private async Task PurgeNowAsync(OffboardingRecord offboarding)
    {
        var admin = (await AuthenticationState).User.AsActor();
        var result = await Commands.PurgeNowAsync(offboarding.Id, admin, Aborted);
        Snackbar.Add(result.Succeeded ? $"{offboarding.TenantSlug} is being purged." : result.Errors.For("status") ?? "No such offboarding.",
            result.Succeeded ? Severity.Success : Severity.Error);
        pending = await Store.PendingPurgesAsync(Aborted);
    }
}
