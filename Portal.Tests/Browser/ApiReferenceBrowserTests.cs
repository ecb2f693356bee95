using Cogrion.Portal.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>The API reference at /api/docs, rendered by Chromium: it shows the Portal's API and asks no other origin for anything.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ApiReferenceBrowserTests
{
    [Fact]
    public async Task The_api_reference_renders_the_portals_api_without_a_request_to_another_origin()
    {
        var stack = await PortalStack.GetAsync();
        var page = await stack.NewPageAsync();
        await stack.SignInAsync(page, DevIdentityProvider.Alice);
        var elsewhere = new List<string>();
        page.Request += (_, request) =>
        {
            if (!request.Url.StartsWith(stack.BaseUrl, StringComparison.Ordinal) && !request.Url.StartsWith("data:", StringComparison.Ordinal)
                && !request.Url.StartsWith("blob:", StringComparison.Ordinal))
                elsewhere.Add(request.Url);
        };

        await page.GotoAsync("/api/docs/");

        await Assertions.Expect(page.GetByText("Cogrion Portal API").First).ToBeVisibleAsync();
        // The document was fetched and rendered: its operation groups are in the navigation.
        await Assertions.Expect(page.GetByText("Cloud accounts").First).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("Agents (platform admins)").First).ToBeVisibleAsync();
        Assert.Empty(elsewhere);
    }
}
