using System.Net;
using System.Net.Http.Json;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Tests.Agents;
using Cogrion.Portal.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>
/// Two real Portal processes on one database, each with a home folder of its own (as two pods
/// have): what one protected with Data Protection the other reads, because the key ring is in the
/// database (docs/adr/0059). A person signed in through one is signed in on the other; a Keycloak
/// back-channel logout that reaches one ends the session on both, open pages included; an agent
/// registers through either and both hand out commands signed with the one command-signing key.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class TwoReplicaTests
{
    [Fact]
    public async Task Two_replicas_with_separate_home_folders_share_sessions_logout_and_the_command_signing_key()
    {
        var database = await PostgresServer.GetAsync();
        var databaseName = await database.CreateMigratedDatabaseAsync("replicas");
        var connectionString = database.ConnectionString(databaseName);
        var first = PortalProcess.NextBaseUrl();
        var second = PortalProcess.NextBaseUrl();
        // Keycloak's back-channel logout goes to one address; here it reaches only the second replica.
        await using var idp = await DevIdentityProvider.StartAsync([first, second], backChannelPortal: second);
        var homes = new[] { Directory.CreateTempSubdirectory("portal-home-1-").FullName, Directory.CreateTempSubdirectory("portal-home-2-")
            .FullName };
        try
        {
            await using var one = await PortalProcess.StartAsync(first, connectionString, idp.Authority, new Dictionary<string,
                string?>
            { ["HOME"] = homes[0] });
            await using var two = await PortalProcess.StartAsync(second, connectionString, idp.Authority, new Dictionary<string,
                string?>
            { ["HOME"] = homes[1] });
            var browser = await BrowserHost.GetAsync();
            var context = await browser.NewContextAsync(new() { BaseURL = first });
            context.SetDefaultTimeout(15_000);

            // Signed in through the first replica...
            var page = await context.NewPageAsync();
            await page.GotoAsync("/dashboard");
            await idp.SubmitLoginFormAsync(page, DevIdentityProvider.Alice);
            await page.WaitForURLAsync(url => url.StartsWith(first + "/", StringComparison.Ordinal)
                && !url.Contains("/signin-oidc", StringComparison.Ordinal) && !url.EndsWith("/dashboard", StringComparison.Ordinal));

            // ...is signed in on the second, without a trip to the identity provider.
            var onSecond = await context.NewPageAsync();
            await onSecond.GotoAsync(second + "/audit");
            await Assertions.Expect(onSecond.GetByRole(AriaRole.Region, new() { Name = "Your account" }).GetByText("alice", new() { Exact = true }))
                .ToBeVisibleAsync();
            Assert.StartsWith(second + "/audit", onSecond.Url, StringComparison.Ordinal);
            Assert.Equal(200, (await context.APIRequest.GetAsync(second + "/api/v1/me")).Status);

            // A page open on the first replica; Alice signs out at Keycloak, which tells only the second.
            var onFirst = await context.NewPageAsync();
            await onFirst.GotoAsync(first + "/audit");
            await PortalStack.WaitUntilInteractiveAsync(onFirst);
            var keycloakTab = await context.NewPageAsync();
            await keycloakTab.GotoAsync($"{idp.Issuer}/protocol/openid-connect/logout");
            await keycloakTab.GetByRole(AriaRole.Button, new() { Name = "Logout" }).ClickAsync();

            await Assertions.Expect(onFirst.GetByRole(AriaRole.Alert, new() { Name = "Your session has ended" })).ToBeVisibleAsync();
            await Assertions.Expect(onSecond.GetByRole(AriaRole.Alert, new() { Name = "Your session has ended" })).ToBeVisibleAsync();
            Assert.Equal(1, idp.BackChannelLogoutsDelivered);
            Assert.Equal(401, (await context.APIRequest.GetAsync(first + "/api/v1/me")).Status);
            Assert.Equal(401, (await context.APIRequest.GetAsync(second + "/api/v1/me")).Status);
            await context.CloseAsync();

            // The command-signing key: made and stored (protected) by the first replica at the first
            // registration, read by the second at the next one.
            using var agentOnFirst = await ProtocolAgent.RegisterAsync(first,
                await TestBootstrapTokens.MintAsync(connectionString, Guid.NewGuid(), Guid.NewGuid()));
            var tenant = Guid.NewGuid();
            using var agentOnSecond = await ProtocolAgent.RegisterAsync(second,
                await TestBootstrapTokens.MintAsync(connectionString, tenant, Guid.NewGuid()));
            Assert.Equal(agentOnFirst.Registration.CommandPublicKey, agentOnSecond.Registration.CommandPublicKey);
            Assert.Equal(agentOnFirst.Registration.CommandKeyId, agentOnSecond.Registration.CommandKeyId);

            // A command signed by yet another replica (this test process, on the same database and key
            // ring) and handed out by the second verifies with the key the agent pinned at registration.
            await using (var third = await PortalServer.StartAsync(connectionString))
            {
                var queued = await third.Get<AgentCommandQueue>().EnqueueAsync(
                    new NewAgentCommand(tenant, agentOnSecond.AgentId, CommandTypes.ReportInventory), AgentScenario.Admin, CancellationToken.None);
                var poll = await agentOnSecond.SendAsync(HttpMethod.Get, ProtocolV1.Commands + "?wait=10", await agentOnSecond.TokenAsync());
                Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
                var batch = await poll.Content.ReadFromJsonAsync(ProtocolJson.Default.CommandBatch);
                Assert.True(ProtocolKeys.TryImportPublicKey(agentOnSecond.Registration.CommandPublicKey, out var pinned));
                using var _ = pinned;
                Assert.True(Jws.TryVerify(Assert.Single(batch!.Commands), ProtocolJson.Default.CommandEnvelope, ProtocolV1.CommandJwsType, pinned!,
                    out var envelope));
                Assert.Equal(queued!.Id, envelope!.Id);
            }

            // Neither replica needed its home folder for keys.
            Assert.All(homes, home
                => Assert.False(Directory.Exists(Path.Combine(home, ".aspnet", "DataProtection-Keys")), $"{home} holds Data Protection keys"));
        }
        finally
        {
            foreach (var home in homes) Directory.Delete(home, recursive: true);
        }
    }
}
