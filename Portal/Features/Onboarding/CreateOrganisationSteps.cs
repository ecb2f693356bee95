namespace Cogrion.Portal.Features.Onboarding;

// The three steps that create the organisation. They come first (orders 100-300); the provisioning
// feature appends "connect a cloud account" and "create your first workspace" after them.

public sealed class OrganisationNameStep : IOnboardingStep
{
    public const string StepKey = "organisation";
    public string Key => StepKey;
    public int Order => 100;
    public string Title => "Organisation";
    public Type Component => typeof(OrganisationNameStepView);
    public bool NeedsTenant => false;
}

public sealed class AddressStep : IOnboardingStep
{
    public const string StepKey = "address";
    public string Key => StepKey;
    public int Order => 200;
    public string Title => "Slug and domain";
    public Type Component => typeof(AddressStepView);
    public bool NeedsTenant => false;
}

public sealed class ConfirmStep : IOnboardingStep
{
    public const string StepKey = "confirm";
    public string Key => StepKey;
    public int Order => 300;
    public string Title => "Confirm";
    public Type Component => typeof(ConfirmStepView);
    public bool NeedsTenant => false;
}
