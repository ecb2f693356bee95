using Cogrion.Portal.Components.Controls;

namespace Cogrion.Portal.Features.Offboarding;

public enum StepState { Done, Current, Waiting }

/// <summary>The words and states the progress page shows, testable without a browser.</summary>
public static class OffboardingView
{
    public static readonly IReadOnlyList<OffboardingStep> Steps = Enum.GetValues<OffboardingStep>().Where(s => s != OffboardingStep.Done).ToList();

    public static string Title(OffboardingStep step) => step switch
    {
        OffboardingStep.Export => "1. Export the bundle",
        OffboardingStep.DestroyWorkspaces => "2. Destroy the workspaces you chose to destroy",
        OffboardingStep.UninstallAgents => "3. Uninstall the agents",
        OffboardingStep.Revoke => "4. Revoke credentials, invitations, memberships and sessions",
        OffboardingStep.CloudAccess => "5. Remove Cogrion's access to your cloud accounts",
        OffboardingStep.Certificate => "6. Issue the deletion certificate",
        OffboardingStep.Purge => "7. Purge the metadata",
        _ => step.ToString(),
    };

    public static StepState StateOf(OffboardingRecord offboarding, OffboardingStep step) =>
        offboarding.Status == OffboardingStatus.Purged || step < offboarding.Step ? StepState.Done
        : step == offboarding.Step && offboarding.Status != OffboardingStatus.AwaitingPurge ? StepState.Current
        : StepState.Waiting;

    public static string StateText(StepState state) => state switch
    {
        StepState.Done => "done",
        StepState.Current => "in progress",
        _ => "to come",
    };

    public static string StatusText(OffboardingRecord offboarding) => offboarding.Status switch
    {
        OffboardingStatus.Running => "running",
        OffboardingStatus.AwaitingPurge => "done, awaiting purge",
        OffboardingStatus.Purged => "purged",
        _ => "failed",
    };

    public static StatusTone ToneOf(OffboardingRecord offboarding) => offboarding.Status switch
    {
        OffboardingStatus.Running => StatusTone.Info,
        OffboardingStatus.Failed => StatusTone.Error,
        _ => StatusTone.Success,
    };
}
