using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>The onboarding wizard driven as a newcomer uses it, for tests to which a tenant of their own is the start, not the subject.</summary>
public static class OnboardingWizard
{
    /// <summary>
    /// On a page just signed in by a person who belongs to no tenant (so the Portal sent them to the wizard): creates the organisation
    /// with the slug the wizard suggests from its name, once the wizard says the slug is available.
    /// </summary>
    public static async Task CreateOrganisationAsync(IPage page, string name)
    {
        await page.WaitForURLAsync(new Regex("/onboarding$"));
        await page.GetByLabel("Organisation name").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "is available." })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create organisation" }).ClickAsync();
    }
}
