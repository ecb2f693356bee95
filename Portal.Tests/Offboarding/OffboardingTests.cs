using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Cogrion.Portal.Features.Audit;
using Cogrion.Portal.Features.Offboarding;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Portal.Tests.Workspaces;
using Dapper;

namespace Cogrion.Portal.Tests.Offboarding;

/// <summary>
/// Offboarding of a tenant with a child tenant, members, an invitation and a cloud account, next to an unrelated tenant, through the real
/// job engine on real PostgreSQL: the bundle's own verifier passes and fails on one changed byte, the certificate verifies with openssl
/// against the published key, access ends, and after the purge nothing of the tenants is left but the audit tombstones, while the other
/// tenant's rows and chain are untouched. Workspaces, agents and clusters: <see cref="OffboardingAgentTests"/>.
/// </summary>
public sealed class OffboardingTests : IAsyncLifetime
{
    private WorkspaceWorld world = null!;

    public async Task InitializeAsync() =>
        world = await WorkspaceWorld.StartAsync(runWorkers: true, new Dictionary<string, string?> { ["Offboarding:WaitInterval"] = "00:00:01" },
            TestAuthentication.Register);

    public async Task DisposeAsync() => await world.DisposeAsync();

    [Fact]
    public async Task A_tenant_with_a_child_leaves_with_a_verifiable_bundle_and_certificate_and_is_purged_leaving_only_tombstones()
    {
        var seeded = await OffboardingWorld.SeedAsync(world.ConnectionString, world.Portal.Services);
        var audit = world.Get<AuditQueries>();
        var otherRowsBefore = await OffboardingWorld.RowsOfAsync(world.ConnectionString, [seeded.Other]);
        var otherEventsBefore = await world.CountAsync("select count(*) from audit_events where tenant_id = @id", new { id = seeded.Other });

        // Support access to the child tenant: a live grant and an open request end with the offboarding.
        var (grant, request) = (Guid.NewGuid(), Guid.NewGuid());
        await using (var seeding = await world.OpenAsync())
            await seeding.ExecuteAsync("""
                insert into support_requests (id, tenant_id, workspace_id, agent_id, requester_id, requester_name, reason, scope,
                    duration_minutes, status, created_at, answer_by, not_before, not_after)
                values (@grant, @tenant, gen_random_uuid(), gen_random_uuid(), @user, 'staff', 'a ticket', 'status', 240, 'approved',
                        now(), now() + interval '12 hours', now(), now() + interval '4 hours'),
                       (@request, @tenant, gen_random_uuid(), gen_random_uuid(), @user, 'staff', 'another', 'status', 240, 'pending',
                        now(), now() + interval '12 hours', null, null)
                """, new { grant, request, tenant = seeded.Child, user = seeded.Admin.Id });

        var context = await OffboardingWorld.ContextAsync(world.Portal.Services, seeded.Root, seeded.Admin, TenantRole.Admin);
        var started = await world.Get<OffboardingCommands>().StartAsync(context,
            new OffboardingRequest("acme", new Dictionary<Guid, WorkspaceFate>(), PurgeTiming.AfterRetention),
                Actor.User(seeded.Admin.Id, "acme-admin"),
            CancellationToken.None);
        Assert.True(started.Succeeded, string.Join("; ", started.Errors.ToDictionary().SelectMany(e => e.Value)));
        var done = await OffboardingWorld.WaitForAsync(world.Portal.Services, started.Value, o => o.Status == OffboardingStatus.AwaitingPurge,
            "the offboarding to issue its certificate");
        Assert.Null(done.LastError);
        Assert.Equal(new[] { seeded.Root, seeded.Child }.Order(), done.TenantIds.Order());
        Assert.True(done.PurgeAfter > DateTimeOffset.UtcNow.AddDays(29), "the default retention is 30 days");
        Assert.Equal("revoked", await world.ScalarAsync<string>("select status from support_requests where id = @grant", new { grant }));
        Assert.Equal("denied", await world.ScalarAsync<string>("select status from support_requests where id = @request", new { request }));
        Assert.Equal(1, await world.CountAsync("select count(*) from audit_events where action = 'support.revoked' and target_id = @id",
            new { id = grant.ToString() }));

        // The files, as the person who started it downloads them; anyone else gets "not found".
        using var client = world.Portal.CreateNonRedirectingClient();
        var bundle = await (await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, OffboardingEndpoints.BundlePath(done.Id)).As(seeded.Admin)))
            .EnsureSuccessStatusCode().Content.ReadAsByteArrayAsync();
        var certificate = await (await client.SendAsync(
            new HttpRequestMessage(HttpMethod.Get, OffboardingEndpoints.CertificatePath(done.Id)).As(seeded.Admin))).EnsureSuccessStatusCode()
            .Content.ReadAsStringAsync();
        using (var stranger = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, OffboardingEndpoints.BundlePath(done.Id))
            .As(seeded.Viewer)))
            Assert.Equal(HttpStatusCode.NotFound, stranger.StatusCode);
        var publicKey = await client.GetStringAsync(OffboardingEndpoints.PublicKeyPath);

        // The bundle checks itself, offline, from a zip or a directory; one changed byte anywhere fails it.
        var unpacked = OffboardingWorld.Unpack(bundle);
        var zip = Path.Combine(Directory.CreateTempSubdirectory("cogrion-zip-").FullName, "bundle.zip");
        await File.WriteAllBytesAsync(zip, bundle);
        foreach (var target in new[] { unpacked, zip })
        {
            var verified = await OffboardingWorld.VerifyBundleAsync(unpacked, target);
            Assert.True(verified.ExitCode == 0, verified.StandardOutput + verified.StandardError);
        }
        var chainFile = Path.Combine(unpacked, "audit", $"{seeded.Root}.jsonl");
        var events = await File.ReadAllLinesAsync(chainFile);
        Assert.Contains(events, e => e.Contains("test.root_changed_again", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Contains("offboarding.started", StringComparison.Ordinal));
        Assert.DoesNotContain(File.ReadAllText(Path.Combine(unpacked, "cloud-accounts.json")), "secret", StringComparison.OrdinalIgnoreCase);
        Assert.Contains("arn:aws:iam::123456789012:role/ops/cogrion-provisioner", File.ReadAllText(Path.Combine(unpacked, "cloud-accounts.json")));
        Assert.Contains("acme-only", File.ReadAllText(Path.Combine(unpacked, "members.json")));

        var tampered = File.ReadAllBytes(chainFile);
        var at = Encoding.UTF8.GetString(tampered).IndexOf("root_changed_again", StringComparison.Ordinal);
        tampered[at] = (byte)'R';
        await File.WriteAllBytesAsync(chainFile, tampered);
        var refused = await OffboardingWorld.VerifyBundleAsync(unpacked, unpacked);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("NOT verified", refused.StandardOutput);
        var zipBytes = File.ReadAllBytes(zip);
        zipBytes[zipBytes.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(zip, zipBytes);
        Assert.Equal(1, (await OffboardingWorld.VerifyBundleAsync(unpacked, zip)).ExitCode);

        // The certificate: openssl alone, with the published key.
        var (signed, document) = await OffboardingWorld.VerifyCertificateAsync(certificate, publicKey);
        Assert.True(signed, "openssl verifies the certificate against the well-known key");
        Assert.Equal("acme", document.GetProperty("tenant").GetProperty("slug").GetString());
        Assert.Equal("acme-lab", document.GetProperty("child_tenants")[0].GetProperty("slug").GetString());
        Assert.Equal("acme-admin", document.GetProperty("requested_by").GetProperty("name").GetString());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bundle)), document.GetProperty("bundle_sha256")
            .GetString());
        var startHead = document.GetProperty("audit_chain_heads_start").GetProperty(seeded.Root.ToString()).GetString();
        Assert.Contains(events, e => e.Contains(startHead!, StringComparison.Ordinal));
        Assert.NotEqual(startHead, document.GetProperty("audit_chain_heads_end").GetProperty(seeded.Root.ToString()).GetString());
        Assert.Contains("aws iam delete-role --role-name cogrion-provisioner",
            document.GetProperty("steps").GetProperty("CloudAccess").GetProperty("left_to_tenant")[0].GetString());
        var forged = JsonSerializer.Serialize(new
        {
            format = CertificateStep.Format,
            keyId = "x",
            publicKeyUrl = OffboardingEndpoints.PublicKeyPath,
            payload = Convert.ToBase64String(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Convert.FromBase64String(
                JsonDocument.Parse(certificate).RootElement.GetProperty("payload").GetString()!)).Replace("acme-admin", "someone-else"))),
            signature = JsonDocument.Parse(certificate).RootElement.GetProperty("signature").GetString(),
        });
        Assert.False((await OffboardingWorld.VerifyCertificateAsync(forged, publicKey)).Verified);

        // Access ended: no membership in the subtree, the invitation revoked, the sessions of the member who had no other tenant ended.
        Assert.Equal(0, await world.CountAsync("select count(*) from tenant_memberships where tenant_id = any(@ids)",
            new { ids = new[] { seeded.Root, seeded.Child } }));
        Assert.Equal(0, await world.CountAsync("select count(*) from tenant_invitations where tenant_id = @id and revoked_at is null",
            new { id = seeded.Child }));
        Assert.Equal(0, await world.CountAsync("select count(*) from authentication_sessions where user_id = @id", new { id = seeded.OnlyHere.Id }));
        Assert.Equal(1, await world.CountAsync("select count(*) from authentication_sessions where user_id = @id",
            new { id = seeded.AlsoElsewhere.Id }));

        // Platform admins see it pending; one purges it now.
        Assert.Contains(await world.Get<OffboardingStore>().PendingPurgesAsync(CancellationToken.None), o => o.Id == done.Id);
        var purge = await world.Get<OffboardingCommands>().PurgeNowAsync(done.Id, Actor.System("test-platform-admin"), CancellationToken.None);
        Assert.True(purge.Succeeded);
        await OffboardingWorld.WaitForAsync(world.Portal.Services, done.Id, o => o.Status == OffboardingStatus.Purged, "the purge");

        var left = await OffboardingWorld.RowsOfAsync(world.ConnectionString, [seeded.Root, seeded.Child]);
        Assert.All(left.Where(t => t.Key is not ("audit_event_tombstones" or "offboardings" or "jobs")),
            t => Assert.True(t.Value == 0, $"{t.Value} row(s) of the purged tenants left in {t.Key}"));
        Assert.Equal(1, left["offboardings"]);
        // Every event of the exported trail has its tombstone with the same hashes, and the steps after the export are there too.
        var tombstones = (await world.QueryAsync<string>(
            "select encode(hash, 'hex') from audit_event_tombstones where tenant_id = @id order by id", new { id = seeded.Root })).ToList();
        var exported = events.Select(e => JsonDocument.Parse(e).RootElement.GetProperty("hash").GetString()!).ToList();
        Assert.Equal(exported, tombstones.Take(exported.Count));
        Assert.True(tombstones.Count > exported.Count);
        Assert.Null(await world.ScalarAsync<string>("select certificate from offboardings where id = @id", new { id = done.Id }));
        Assert.Equal(0, await world.CountAsync("select count(*) from jobs where tenant_id = any(@ids) and kind <> 'offboarding.step'",
            new { ids = new[] { seeded.Root, seeded.Child } }));

        // The other tenant: every row and its chain as before; the platform chain records the purge and still verifies.
        Assert.Equal(otherRowsBefore, await OffboardingWorld.RowsOfAsync(world.ConnectionString, [seeded.Other]));
        Assert.Equal(otherEventsBefore, await world.CountAsync("select count(*) from audit_events where tenant_id = @id", new { id = seeded.Other }));
        Assert.Null(await audit.FindFirstBrokenLinkAsync(seeded.Other, CancellationToken.None));
        Assert.Null(await audit.FindFirstBrokenLinkAsync(null, CancellationToken.None));
        Assert.Equal(1, await world.CountAsync("select count(*) from audit_events where tenant_id is null and action = 'offboarding.purged'"));

        // The purge path stays closed to everyone else: the audit table still refuses a delete.
        await using var connection = await world.OpenAsync();
        var refusal = await Assert.ThrowsAsync<Npgsql.PostgresException>(() =>
            connection.ExecuteAsync("delete from audit_events where tenant_id = @id", new { id = seeded.Other }));
        Assert.Contains("append-only", refusal.MessageText);
    }

    [Fact]
    public async Task Bad_requests_are_refused_with_a_clear_error_and_change_nothing()
    {
        var seeded = await OffboardingWorld.SeedAsync(world.ConnectionString, world.Portal.Services, slug: "bad");
        var commands = world.Get<OffboardingCommands>();
        var admin = await OffboardingWorld.ContextAsync(world.Portal.Services, seeded.Root, seeded.Admin, TenantRole.Admin);
        var viewer = await OffboardingWorld.ContextAsync(world.Portal.Services, seeded.Root, seeded.Viewer, TenantRole.Viewer);
        var none = new Dictionary<Guid, WorkspaceFate>();
        var actor = Actor.User(seeded.Admin.Id, "bad-admin");

        var wrong = await commands.StartAsync(admin, new OffboardingRequest("bad-lab", none, PurgeTiming.Immediately), actor, CancellationToken.None);
        Assert.Equal("Type the tenant's slug, bad, to confirm.", wrong.Errors.For("confirmation"));
        var notAdmin = await commands.StartAsync(viewer, new OffboardingRequest("bad", none, PurgeTiming.Immediately), actor, CancellationToken.None);
        Assert.Contains("Only an admin of bad can offboard it.", notAdmin.Errors.For("role"));
        var unknownWorkspace = await commands.StartAsync(admin,
            new OffboardingRequest("bad", new Dictionary<Guid, WorkspaceFate> { [Guid.NewGuid()] = WorkspaceFate.Keep }, PurgeTiming.Immediately),
            actor, CancellationToken.None);
        Assert.Contains("does not have", unknownWorkspace.Errors.For("workspaces"));
        Assert.Equal(0, await world.CountAsync("select count(*) from offboardings"));
        Assert.Equal(0, await world.CountAsync("select count(*) from audit_events where action like 'offboarding.%'"));

        // Over the API as well: a problem naming the field.
        using var client = world.Portal.CreateNonRedirectingClient();
        using var api = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/tenants/bad/offboarding")
        {
            Content = JsonContent.Create(new { confirmation = "nope", workspaces = new Dictionary<string, string>(), purge = "immediately" }),
        }.As(seeded.Admin));
        Assert.Equal(HttpStatusCode.BadRequest, api.StatusCode);
        Assert.Contains("Type the tenant's slug, bad, to confirm.", await api.Content.ReadAsStringAsync());

        // A second offboarding of the same tree, of the tenant or of its child, while one is under way.
        var first = await commands.StartAsync(admin, new OffboardingRequest("bad", none, PurgeTiming.AfterRetention), actor, CancellationToken.None);
        Assert.True(first.Succeeded);
        var again = await commands.StartAsync(admin, new OffboardingRequest("bad", none, PurgeTiming.AfterRetention), actor, CancellationToken.None);
        Assert.Contains("already under way", again.Errors.For("tenant"));
        var child = await OffboardingWorld.ContextAsync(world.Portal.Services, seeded.Child, seeded.Admin, TenantRole.Admin);
        var ofChild = await commands.StartAsync(child, new OffboardingRequest("bad-lab", none, PurgeTiming.AfterRetention), actor,
            CancellationToken.None);
        Assert.Contains("already under way", ofChild.Errors.For("tenant"));
        Assert.Equal(1, await world.CountAsync("select count(*) from offboardings"));
    }
}
