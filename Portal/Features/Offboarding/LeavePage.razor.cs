using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>
/// "Leave Cogrion", for a tenant's admins: what will happen (the subtree, its members, every workspace with its account and apps), a
/// keep-or-destroy choice per workspace, when to purge, and the slug typed to start. The rules are <see cref="OffboardingCommands"/>'s;
/// the page shows their answers and, once started, moves to the progress page.
/// </summary>
public partial class LeavePage
{
    [Inject] private OffboardingStore Store { get; set; } = default!;
    [Inject] private OffboardingCommands Commands { get; set; } = default!;
    [Inject] private IOptions<OffboardingOptions> Options { get; set; } = default!;

    private LeaveForm? form;
    private OffboardingRecord? active;
    private FieldErrors errors = new();
    private bool busy;

    private int RetentionDays => (int)Math.Round(Options.Value.PurgeRetention.TotalDays);

    protected override async Task OnTenantReadyAsync()
    {
        active = await Store.FindActiveCoveringAsync(Current.TenantId, Aborted);
        if (await Store.PlanAsync(Current.TenantId, Aborted) is { } plan) form = new LeaveForm(plan);
    }

    private async Task StartAsync()
    {
        if (form is null || busy) return;
        busy = true;
        try
        {
            var result = await Commands.StartAsync(Current, form.ToRequest(), User.AsActor(), Aborted);
            errors = result.Errors;
            if (result.Succeeded) Navigation.NavigateTo(OffboardingEndpoints.PagePath(result.Value).TrimStart('/'));
        }
        finally
        {
            busy = false;
        }
    }
}
