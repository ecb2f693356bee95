using Cogrion.Portal.Features.Onboarding;

namespace Cogrion.Portal.Features.CloudAccounts;

/// <summary>Onboarding, after the organisation exists: connect a cloud account (or the sandbox, to try things out).</summary>
public sealed class ConnectCloudAccountStep : IOnboardingStep
{
    public const string StepKey = "cloud-account";
    public string Key => StepKey;
    public int Order => 400;
    public string Title => "Cloud account";
    public Type Component => typeof(ConnectCloudAccountStepView);
    public bool NeedsTenant => true;
}
