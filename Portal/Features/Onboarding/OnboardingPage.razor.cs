using Cogrion.Portal.Infrastructure.Authentication;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Cogrion.Portal.Features.Onboarding;

/// <summary>
/// The wizard: every registered <see cref="IOnboardingStep"/> in order, opened at the first step the
/// person has not completed. The page only moves between steps; each step does its own work.
/// </summary>
public partial class OnboardingPage
{
    [Inject] private OnboardingSteps Steps { get; set; } = default!;
    [Inject] private OnboardingStore Store { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private Guid userId;
    private OnboardingProgress? progress;
    private int current;
    private int selected;
    // Bumped whenever progress reloads, so step components start from the saved state.
    private int revision;

    protected override async Task OnInitializedAsync()
    {
        userId = (await AuthenticationState).User.GetUserId() ?? throw new InvalidOperationException("A signed-in user has a Portal user id.");
        await ReloadAsync(moveToCurrent: true);
    }

    private async Task ReloadAsync(bool moveToCurrent)
    {
        progress = await Store.GetAsync(userId, Aborted);
        current = Steps.CurrentIndex(progress);
        if (moveToCurrent) selected = Math.Max(current, 0);
        revision++;
    }

    private Dictionary<string, object> ParametersFor(IOnboardingStep step) => new()
    {
        ["Step"] = new OnboardingStepContext(
            progress!,
            draft => Store.SaveDraftAsync(userId, draft, Aborted),
            async () =>
            {
                await Store.CompleteStepAsync(userId, step.Key, null, null, Aborted);
                await ReloadAsync(moveToCurrent: true);
                StateHasChanged();
            },
            async () =>
            {
                await ReloadAsync(moveToCurrent: false);
                selected = Math.Max(0, selected - 1);
                StateHasChanged();
            }),
    };

    // A click on a step's title opens it if the person may go there; the stepper itself never moves on its own.
    private Task OnStepperInteractionAsync(StepperInteractionEventArgs args)
    {
        args.Cancel = true;
        if (args.Action == StepAction.Activate && progress is not null && Steps.CanVisit(progress, args.StepIndex)) selected = args.StepIndex;
        return Task.CompletedTask;
    }

    private async Task StartOverAsync()
    {
        await Store.ResetAsync(userId, Aborted);
        await ReloadAsync(moveToCurrent: true);
    }
}
