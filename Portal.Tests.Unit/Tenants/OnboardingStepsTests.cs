using Cogrion.Portal.Features.Onboarding;

namespace Cogrion.Portal.Tests.Tenants;

/// <summary>The wizard as a growable, resumable sequence.</summary>
public sealed class OnboardingStepsTests
{
    private sealed class ConnectCloudAccount : IOnboardingStep
    {
        public string Key => "cloud-account";
        public int Order => 400;
        public string Title => "Connect a cloud account";
        public Type Component => typeof(object);
        public bool NeedsTenant => true;
    }

    private static readonly OnboardingSteps Steps = new([new ConfirmStep(), new ConnectCloudAccount(), new OrganisationNameStep(),
        new AddressStep()]);

    private static OnboardingProgress Progress(Guid? tenant, params string[] done)
        => new(Guid.NewGuid(), tenant, tenant is null ? null : "acme", new OnboardingDraft(), done);

    [Fact]
    public void Steps_run_in_their_declared_order_whatever_the_registration_order() =>
        Assert.Equal(["organisation", "address", "confirm", "cloud-account"], Steps.Ordered.Select(s => s.Key));

    [Fact]
    public void The_wizard_resumes_at_the_first_step_not_completed() =>
        Assert.Equal(1, Steps.CurrentIndex(Progress(null, "organisation")));

    [Fact]
    public void A_step_added_later_is_where_people_who_finished_the_old_wizard_resume()
    {
        var finishedBefore = Progress(Guid.NewGuid(), "organisation", "address", "confirm");

        Assert.Equal(3, Steps.CurrentIndex(finishedBefore));
        // Once the tenant exists, the steps that created it are closed: its settings page changes name and domain.
        Assert.False(Steps.CanVisit(finishedBefore, 0));
        Assert.True(Steps.CanVisit(finishedBefore, 3));
    }

    [Fact]
    public void Steps_ahead_of_the_current_one_cannot_be_opened() =>
        Assert.False(Steps.CanVisit(Progress(null, "organisation"), 2));
}
