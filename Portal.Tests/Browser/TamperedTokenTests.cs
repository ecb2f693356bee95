using System.Text.RegularExpressions;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.Playwright;
using Npgsql;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>
/// The OpenID Connect handler refuses an id_token that is not exactly what the realm issued for this
/// sign-in. The dev IdP runs the real code flow and then, told to, hands back a token re-signed after
/// one change (tools/dev-idp/lib/test-controls.mjs): signed by a key the realm never published, meant
/// for another client, from another issuer, for another sign-in (nonce), or expired. Each time the
/// person lands on the sign-in error page with no session, and the Portal's log says why. Its own stack: the provider is told to
/// misbehave.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class TamperedTokenTests(IsolatedPortalStack own) : IClassFixture<IsolatedPortalStack>
{
    [Theory]
    [InlineData("wrong-signature", "Signature validation failed")]
    [InlineData("wrong-audience", "Audience validation failed")]
    [InlineData("wrong-issuer", "Issuer validation failed")]
    [InlineData("wrong-nonce", "nonce")]
    [InlineData("expired", "Lifetime validation failed")]
    public async Task A_tampered_id_token_is_refused_and_no_session_is_made(string tampering, string reason)
    {
        var stack = own.Stack;
        await stack.IdentityProvider.MisbehaveAsync(tampering);
        var page = await stack.NewPageAsync();

        await page.GotoAsync("/dashboard");
        await stack.IdentityProvider.SubmitLoginFormAsync(page, DevIdentityProvider.Bob);

        await page.WaitForURLAsync(new Regex("/signin-error$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign-in did not complete" })).ToBeVisibleAsync();
        var me = await page.Context.APIRequest.GetAsync("/api/v1/me");
        Assert.Equal(401, me.Status);
        await using (var connection = new NpgsqlConnection(stack.ConnectionString))
        {
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
                "select count(*) from authentication_sessions where subject = '2d8b6e1a-5c3f-4b9a-9e4c-7f0a3b2c9d03'"));
        }
        Assert.Contains(stack.IdentityProvider.Output.Split('\n'), line
            => line.Contains($"id_token tampered ({tampering})", StringComparison.Ordinal));
        await Eventually.ValueAsync(() => Task.FromResult(stack.Portal.Output),
            output => output.Split('\n').Any(line => line.Contains("Sign-in failed", StringComparison.Ordinal))
                      && output.Contains(reason, StringComparison.OrdinalIgnoreCase),
            $"the Portal's log to say why ({reason})");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_same_realm_untampered_signs_in()
    {
        var stack = own.Stack;
        var page = await stack.NewPageAsync();

        await stack.SignInAsync(page, DevIdentityProvider.Carol);

        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "Your account" }).GetByText("carol", new() { Exact = true }))
            .ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }
}
