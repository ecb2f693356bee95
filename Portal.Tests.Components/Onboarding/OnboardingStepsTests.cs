using Cogrion.Portal.Features.Onboarding;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Tests.Components.Onboarding;

/// <summary>The onboarding wizard's name and address steps: field errors, the suggested slug, and checks that race the typing.</summary>
public sealed class OnboardingStepsTests : PortalTestContext
{
    private sealed class Recorder
    {
        public OnboardingDraft? Saved { get; set; }
        public int Completed { get; set; }

        public OnboardingStepContext Context(OnboardingDraft draft) => new(
            new OnboardingProgress(Guid.NewGuid(), null, null, draft, []),
            saved => { Saved = saved; return Task.CompletedTask; },
            () => { Completed++; return Task.CompletedTask; },
            () => Task.CompletedTask);
    }

    [Fact]
    public void An_empty_organisation_name_is_refused_at_the_field_and_the_step_is_not_done()
    {
        var recorder = new Recorder();
        var cut = Render<OrganisationNameStepView>(p => p.Add(s => s.Step, recorder.Context(new OnboardingDraft())));

        cut.Find("form").Submit();

        var input = cut.Find("input");
        Assert.Equal("Organisation name", cut.Find($"label[for='{input.Id}']").TextContent.Trim());
        Assert.Equal("true", input.GetAttribute("aria-invalid"));
        Assert.False(string.IsNullOrEmpty(cut.Find($"#{input.GetAttribute("aria-describedby")}").TextContent));
        Assert.Equal(0, recorder.Completed);
    }

    [Fact]
    public void A_name_completes_the_step_and_suggests_the_slug_from_it()
    {
        var recorder = new Recorder();
        var cut = Render<OrganisationNameStepView>(p => p.Add(s => s.Step, recorder.Context(new OnboardingDraft())));

        cut.Find("input").Input("Dave's Data ");
        cut.Find("form").Submit();

        Assert.Equal(1, recorder.Completed);
        Assert.Equal("Dave's Data", recorder.Saved!.Name);
        Assert.Equal("dave-s-data", recorder.Saved.Slug);
    }

    [Fact]
    public void A_slug_the_person_chose_is_kept_when_the_name_changes()
    {
        var recorder = new Recorder();
        var cut = Render<OrganisationNameStepView>(p => p.Add(s => s.Step, recorder.Context(new OnboardingDraft("Acme", "acme-eu"))));

        cut.Find("input").Input("Acme Europe");
        cut.Find("form").Submit();

        Assert.Equal("acme-eu", recorder.Saved!.Slug);
    }

    [Fact]
    public void The_domain_follows_the_slug_until_the_person_edits_it()
    {
        var address = TenantAddress.FromDraft(new OnboardingDraft("Acme", "acme"), "cogrion.test");
        Assert.Equal("acme.cogrion.test", address.Domain);

        address.SetSlug("Acme-EU");
        Assert.Equal("acme-eu.cogrion.test", address.Domain);

        address.SetDomain("data.acme.cogrion.test");
        address.SetSlug("acme");
        Assert.True(address.DomainEdited);
        Assert.Equal("data.acme.cogrion.test", address.Domain);
    }

    [Fact]
    public async Task The_answer_to_an_older_keystroke_never_overwrites_the_newer_one()
    {
        var address = TenantAddress.FromDraft(new OnboardingDraft("Acme"), "cogrion.test");
        var slow = new TaskCompletionSource<FieldErrors>();
        address.SetSlug("admin");
        var first = address.CheckAsync(_ => slow.Task, "Acme");

        address.SetSlug("acme");
        await address.CheckAsync(_ => Task.FromResult(new FieldErrors()), "Acme");
        slow.SetResult(FieldErrors.Single("slug", "'admin' is reserved."));
        await first;

        Assert.True(address.IsValid);
        Assert.Equal("'acme' is available.", address.SlugStatus);
    }
}
