using System.Text;
using System.Text.RegularExpressions;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.Playwright;
using Npgsql;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>
/// Server-side sessions (docs/adr/0058): the ticket lives in PostgreSQL, protected; the cookie holds
/// its key; ending the row ends the session for the next request and for the open page at once,
/// whether the end comes from Keycloak's back-channel logout or an admin's "sign out everywhere". Its own stack: it ends sessions.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ServerSessionTests(IsolatedPortalStack own) : IClassFixture<IsolatedPortalStack>
{
    private const string AliceSubject = "1c7a5d0f-4b2e-4a8f-8d3b-6e9f2a1b8c02";
    private const string BobSubject = "2d8b6e1a-5c3f-4b9a-9e4c-7f0a3b2c9d03";
    private const string FrankSubject = "6bcf0a5e-9a7d-4fde-9c8a-1d4e7f6a3b07";

    private PortalStack Stack => own.Stack;

    private async Task<T> QueryAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(Stack.ConnectionString);
        return await connection.ExecuteScalarAsync<T>(sql, parameters) ?? throw new InvalidOperationException($"No value: {sql}");
    }

    private Task<long> SessionsOfAsync(string subject) =>
        QueryAsync<long>("select count(*) from authentication_sessions where subject = @subject", new { subject });

    [Fact]
    public async Task The_ticket_is_kept_protected_in_the_database_and_the_cookie_holds_only_its_key()
    {
        var page = await Stack.NewPageAsync();
        await Stack.SignInAsync(page, DevIdentityProvider.Bob);

        var cookie = string.Concat((await page.Context.CookiesAsync()).Where(c => c.Name.StartsWith("cogrion.session", StringComparison.Ordinal))
            .Select(c => c.Value));
        await using var connection = new NpgsqlConnection(Stack.ConnectionString);
        var ticket = await connection.QuerySingleAsync<byte[]>(
            "select protected_ticket from authentication_sessions where subject = @BobSubject order by created_at desc limit 1", new { BobSubject });
        var asText = Encoding.Latin1.GetString(ticket);

        // Three JWT-sized tokens and the claims would need several kilobytes; a protected key needs a few hundred bytes.
        Assert.InRange(cookie.Length, 1, 600);
        Assert.True(ticket.Length > 1000, "the ticket with its tokens is in the database");
        Assert.DoesNotContain("eyJ", asText); // no JWT (id_token) in plain text
        Assert.DoesNotContain("bob@example.com", asText);
        Assert.DoesNotContain("refresh_token", asText);
        Assert.DoesNotContain(cookie,
            await connection.ExecuteScalarAsync<string>("select string_agg(encode(key_hash, 'hex'), ',') from authentication_sessions"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Keycloak_back_channel_logout_ends_the_session_and_its_open_page_at_once()
    {
        var page = await Stack.NewPageAsync();
        await Stack.SignInAsync(page, DevIdentityProvider.Alice);
        await page.GotoAsync("/audit");
        await PortalStack.WaitUntilInteractiveAsync(page);
        Assert.Equal(1, await SessionsOfAsync(AliceSubject));
        var delivered = Stack.IdentityProvider.BackChannelLogoutsDelivered;

        // Alice signs out at Keycloak itself (its account page, another application...): in another tab.
        var keycloakTab = await page.Context.NewPageAsync();
        await keycloakTab.GotoAsync($"{Stack.IdentityProvider.Issuer}/protocol/openid-connect/logout");
        await keycloakTab.GetByRole(AriaRole.Button, new() { Name = "Logout" }).ClickAsync();

        // The realm posted a logout token to the Portal, which ended the session: the open page says so...
        await Assertions.Expect(page.GetByRole(AriaRole.Alert, new() { Name = "Your session has ended" })).ToBeVisibleAsync();
        Assert.True(Stack.IdentityProvider.BackChannelLogoutsDelivered > delivered);
        Assert.Equal(0, await SessionsOfAsync(AliceSubject));
        // ...and the cookie no longer opens anything.
        Assert.Equal(401, (await page.Context.APIRequest.GetAsync("/api/v1/me")).Status);
        Assert.Equal(1, await QueryAsync<long>(
            "select count(*) from audit_events where action = 'session.backchannel_logout' and target_id = @AliceSubject", new { AliceSubject }));

        // Signing in again needs the password: the realm's session is gone too.
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in again" }).ClickAsync();
        await page.WaitForURLAsync(url => url.StartsWith(Stack.IdentityProvider.Authority, StringComparison.Ordinal));
        await Assertions.Expect(DevIdentityProvider.LoginButton(page)).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Forged_stale_or_replayed_logout_tokens_are_refused_and_end_nothing()
    {
        var page = await Stack.NewPageAsync();
        await Stack.SignInAsync(page, DevIdentityProvider.Bob);
        var sid = await QueryAsync<string>(
            "select idp_session_id from authentication_sessions where subject = @BobSubject order by created_at desc limit 1", new { BobSubject });
        var idp = Stack.IdentityProvider;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Dictionary<string, object> Claims() => new()
        {
            ["iss"] = idp.Issuer,
            ["aud"] = TestSettings.ClientId,
            ["iat"] = now,
            ["exp"] = now + 120,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["sub"] = BobSubject,
            ["sid"] = sid,
            ["events"] = new Dictionary<string, object> { ["http://schemas.openid.net/event/backchannel-logout"] = new { } },
        };
        Dictionary<string, object> With(string claim, object? value)
        {
            var claims = Claims();
            if (value is null) claims.Remove(claim); else claims[claim] = value;
            return claims;
        }
        using var http = new HttpClient { BaseAddress = new Uri(Stack.BaseUrl) };
        async Task<int> PostAsync(string token) =>
            (int)(await http.PostAsync("/account/backchannel-logout",
                new FormUrlEncodedContent(new Dictionary<string, string> { ["logout_token"] = token }))).StatusCode;

        var refused = new Dictionary<string, string>
        {
            ["signed by a key the realm never published"] = await idp.SignAsync(Claims(), foreignKey: true),
            ["for another client"] = await idp.SignAsync(With("aud", "someone-else")),
            ["from another issuer"] = await idp.SignAsync(With("iss", idp.Issuer + "-impostor")),
            ["with a nonce (an id_token's shape)"] = await idp.SignAsync(With("nonce", "n-0S6_WzA2Mj")),
            ["without the logout event"] = await idp.SignAsync(With("events", null)),
            ["naming neither sub nor sid"] = await idp.SignAsync(With("sid", null).Where(c => c.Key != "sub").ToDictionary()),
            ["issued an hour ago"] = await idp.SignAsync(With("iat", now - 3600)),
            ["expired"] = await idp.SignAsync(With("exp", now - 600)),
            ["without a jti"] = await idp.SignAsync(With("jti", null)),
        };
        foreach (var (what, token) in refused)
            Assert.True(await PostAsync(token) == 400, $"a logout token {what} must be refused");
        Assert.Equal(400, await PostAsync("not-a-jwt"));
        Assert.Equal(1, await SessionsOfAsync(BobSubject));
        Assert.Equal(200, (await page.Context.APIRequest.GetAsync("/api/v1/me")).Status);

        // The genuine one ends the session; the same token again is a replay.
        var genuine = await idp.SignAsync(Claims());
        Assert.Equal(200, await PostAsync(genuine));
        Assert.Equal(0, await SessionsOfAsync(BobSubject));
        Assert.Equal(400, await PostAsync(genuine));
        Assert.Equal(401, (await page.Context.APIRequest.GetAsync("/api/v1/me")).Status);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_admin_signs_a_person_out_everywhere_and_their_next_sign_in_asks_for_the_password()
    {
        // Frank is a platform admin through a role of the Portal's client (resource_access), not a realm role.
        var frank = await Stack.NewPageAsync();
        await Stack.SignInAsync(frank, DevIdentityProvider.Frank);
        await frank.WaitForURLAsync(new Regex("/admin$"));
        await Assertions.Expect(frank.GetByRole(AriaRole.Region, new() { Name = "Your account" }).GetByText("platform-admin", new() { Exact = true }))
            .ToBeVisibleAsync();
        var frankElsewhere = await frank.Context.Browser!.NewContextAsync(new() { BaseURL = Stack.BaseUrl });
        var secondDevice = await frankElsewhere.NewPageAsync();
        await Stack.SignInAsync(secondDevice, DevIdentityProvider.Frank);
        Assert.Equal(2, await SessionsOfAsync(FrankSubject));

        var admin = await Stack.NewPageAsync();
        await Stack.SignInAsync(admin, DevIdentityProvider.Admin, "/admin/users");
        var row = admin.GetByRole(AriaRole.Row).Filter(new() { Has = admin.GetByRole(AriaRole.Rowheader, new() { Name = "frank", Exact = true }) });
        await Assertions.Expect(row.GetByLabel("Open sessions of frank")).ToHaveTextAsync("2");
        await row.GetByRole(AriaRole.Button, new() { Name = "Sign frank out everywhere" }).ClickAsync();
        await row.GetByRole(AriaRole.Button, new() { Name = "Yes, sign frank out everywhere" }).ClickAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Status, new() { Name = "Result" })).ToContainTextAsync("2 session(s) ended");

        // Both of Frank's open pages say so at once; neither cookie opens anything any more.
        await Assertions.Expect(frank.GetByRole(AriaRole.Alert, new() { Name = "Your session has ended" })).ToBeVisibleAsync();
        await Assertions.Expect(secondDevice.GetByRole(AriaRole.Alert, new() { Name = "Your session has ended" })).ToBeVisibleAsync();
        Assert.Equal(401, (await frank.Context.APIRequest.GetAsync("/api/v1/me")).Status);
        Assert.Equal(401, (await frankElsewhere.APIRequest.GetAsync("/api/v1/me")).Status);
        Assert.Equal(0, await SessionsOfAsync(FrankSubject));
        Assert.Equal(1,
            await QueryAsync<long>("select count(*) from audit_events where action = 'session.signed_out_everywhere' and details->>'username' = " +
            "'frank'"));

        // The realm still has Frank's single sign-on session, yet he must type his password again.
        await frank.GetByRole(AriaRole.Link, new() { Name = "Sign in again" }).ClickAsync();
        await Stack.IdentityProvider.SubmitLoginFormAsync(frank, DevIdentityProvider.Frank);
        await frank.WaitForURLAsync(url => url.StartsWith(Stack.BaseUrl, StringComparison.Ordinal)
            && !url.Contains("/signin-oidc", StringComparison.Ordinal));
        await Assertions.Expect(frank.GetByRole(AriaRole.Region, new() { Name = "Your account" }).GetByText("frank", new() { Exact = true }))
            .ToBeVisibleAsync();
        await frankElsewhere.CloseAsync();
        await frank.Context.CloseAsync();
        await admin.Context.CloseAsync();
    }
}
