using Cogrion.Portal.Infrastructure.Audit;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Cogrion.Portal.Features.CloudAccounts;

/// <summary>The wizard's page: <see cref="NewCloudAccountWizard"/> decides the steps; this page connects the account at the end.</summary>
public partial class NewCloudAccountPage
{
    [Inject] private CloudAccountCommands Commands { get; set; } = default!;

    private readonly NewCloudAccountWizard wizard = new();
    private bool busy;

    // A click on a step's title: only steps already reached may be opened again.
    private Task OnStepperInteractionAsync(StepperInteractionEventArgs args)
    {
        args.Cancel = true;
        if (args.Action == StepAction.Activate) wizard.Visit(args.StepIndex);
        return Task.CompletedTask;
    }

    private async Task ConnectAsync()
    {
        if (!wizard.IsReadyToConnect()) return;
        busy = true;
        try
        {
            var result = await Commands.ConnectAsync(Current, wizard.Request(), User.AsActor(), Aborted);
            if (!result.Succeeded)
            {
                wizard.Errors = result.Errors;
                return;
            }
            Navigation.NavigateTo($"t/{Current.Slug}/cloud-accounts/{result.Value!.Id}");
        }
        finally
        {
            busy = false;
        }
    }
}
