using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Http;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Cogrion.Portal.Features.Support;

/// <summary>A platform admin's support requests: ask for access to one workspace, and see one's own requests and grants.</summary>
public partial class SupportRequestsPage
{
    [Inject] private SupportRequests Requests { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private IReadOnlyList<SupportTarget> targets = [];
    private IReadOnlyList<SupportRequest> mine = [];
    private string? targetKey;
    private string? reason;
    private string? ticket;
    private SupportScope scope = SupportScope.Status;
    private int hours = (int)SupportRequest.DefaultDuration.TotalHours;
    private bool busy;
    private FieldErrors errors = new();
    private System.Security.Claims.ClaimsPrincipal user = new();

    private static string Key(SupportTarget target) => $"{target.TenantId:N}/{target.WorkspaceId:N}";

    protected override async Task OnInitializedAsync()
    {
        user = (await AuthenticationState).User;
        targets = await Requests.TargetsAsync(Aborted);
        await ReloadAsync();
    }

    private async Task ReloadAsync() => mine = user.GetUserId() is { } id ? await Requests.ListForRequesterAsync(id, Aborted) : [];

    private async Task RequestAsync()
    {
        errors = new FieldErrors();
        var target = targets.FirstOrDefault(t => Key(t) == targetKey);
        if (target is null)
        {
            errors.Add("workspace", "Choose the workspace you need.");
            return;
        }
        if (user.GetUserId() is not { } userId) return;
        busy = true;
        try
        {
            var result = await Requests.RequestAsync(new NewSupportRequest(target.TenantId, target.WorkspaceId, reason, ticket, scope, hours), userId,
                user.GetUsername() ?? userId.ToString(), user.AsActor(), Aborted);
            if (!result.Succeeded)
            {
                errors = result.Errors;
                return;
            }
            Snackbar.Add($"Requested; {target.TenantSlug}'s admins have 12 hours to answer.", Severity.Success);
            reason = ticket = null;
            await ReloadAsync();
        }
        finally
        {
            busy = false;
        }
    }
}
