using Cogrion.Portal.Features.Onboarding;

namespace Cogrion.Portal.Features.Workspaces;

/// <summary>Onboarding step 500: after the cloud account (400), the first workspace, in the workspace wizard.</summary>
public sealed class FirstWorkspaceStep : IOnboardingStep
{
    public const string StepKey = "first-workspace";
    public string Key => StepKey;
    public int Order => 500;
    public string Title => "First workspace";
    public Type Component => typeof(FirstWorkspaceStepView);
    public bool NeedsTenant => true;
}
