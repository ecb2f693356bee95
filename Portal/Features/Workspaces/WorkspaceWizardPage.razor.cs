using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Onboarding;
using Cogrion.Portal.Features.Workspaces.KubernetesVersions;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Features.Workspaces.Wizard;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Cogrion.Portal.Features.Workspaces;

/// <summary>
/// The workspace wizard's page. <see cref="WorkspaceWizard"/> holds the steps and their checks; the page
/// shows them and, at the end, creates the workspace (and completes the onboarding step it came from).
/// </summary>
public partial class WorkspaceWizardPage
{
    [Inject] private CloudAccountStore Accounts { get; set; } = default!;
    [Inject] private WorkspaceStore Store { get; set; } = default!;
    [Inject] private WorkspaceCommands Commands { get; set; } = default!;
    [Inject] private WorkspaceRunRequests Requests { get; set; } = default!;
    [Inject] private StateBackendViews Backends { get; set; } = default!;
    [Inject] private OnboardingStore Onboarding { get; set; } = default!;
    [Inject] private KubernetesVersionPolicy VersionPolicy { get; set; } = default!;
    [SupplyParameterFromQuery(Name = "onboarding")] public int? FromOnboarding { get; set; }

    private WorkspaceWizard? wizard;
    private bool busy;

    protected override async Task OnTenantReadyAsync()
    {
        var accounts = await Accounts.ListAsync(Current.TenantId, Aborted);
        wizard = new WorkspaceWizard(Current.TenantId, Current.Tenant.Domain, accounts, new WorkspaceWizardQueries(Store, Backends, Requests),
            VersionPolicy);
    }

    private string AccountText(Guid? id) => wizard?.Accounts.FirstOrDefault(a => a.Id == id) is { } account
        ? $"{account.Name} — " +
            $"{account.Provider.ToText()}{(account.IsVerified ? "" : $" (not verified: {account.Status.ToString().ToLowerInvariant()})")}"
        : "";

    // A click on a step's title: only steps already reached may be opened again.
    private Task OnStepperInteractionAsync(StepperInteractionEventArgs args)
    {
        args.Cancel = true;
        if (args.Action == StepAction.Activate) wizard?.Visit(args.StepIndex);
        return Task.CompletedTask;
    }

    private async Task NextAsync()
    {
        busy = true;
        try
        {
            await wizard!.NextAsync(Aborted);
        }
        finally
        {
            busy = false;
        }
    }

    private async Task CreateAsync()
    {
        busy = true;
        try
        {
            var result = await Commands.CreateAsync(Current.TenantId, wizard!.Input(), User.AsActor(), Aborted);
            if (!result.Succeeded)
            {
                wizard.ShowErrors(result.Errors);
                return;
            }
            if (FromOnboarding == 1 && User.GetUserId() is { } userId)
                await Onboarding.CompleteStepAsync(userId, FirstWorkspaceStep.StepKey, Current.TenantId, null, Aborted);
            Navigation.NavigateTo($"t/{Current.Slug}/workspaces/{result.Value!.Name}");
        }
        finally
        {
            busy = false;
        }
    }
}
