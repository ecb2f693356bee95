using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cogrion.Agent.Identity;
using Cogrion.Agent.Protocol;
using Cogrion.Agent.Support;
using Cogrion.Portal.Features.Support;
using Microsoft.Extensions.Time.Testing;

namespace Cogrion.Portal.Tests.Support;

/// <summary>
/// The rules support access rests on, without a cluster: the agent's WebAuthn check (each field that must match,
/// refused one by one), its COSE parsing, the grant's window and scope on the agent's clock, and the Portal's
/// read-time statuses (expired, ended) that hold after a restart.
/// </summary>
public sealed class SupportAccessRulesTests
{
    private const string RpId = "portal.example";
    private const string Origin = "https://portal.example";
    private static readonly Guid Tenant = Guid.NewGuid();
    private static readonly Guid Approver = Guid.NewGuid();

    private sealed class Passkey : IDisposable
    {
        public readonly ECDsa Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        public readonly string Id = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));

        public SupportApprover Approver(Guid user) => new(Id, Base64Url.EncodeToString(CoseKey.Encode(Key)), user, "ann");

        public WebAuthnAssertion Sign(byte[] challenge, string type = "webauthn.get", string origin = Origin, string rpId = RpId, byte flags = 0x05)
        {
            var clientData = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { type, challenge = Base64Url.EncodeToString(challenge), origin }));
            byte[] authData = [.. SHA256.HashData(Encoding.UTF8.GetBytes(rpId)), flags, 0, 0, 0, 7];
            var signature = Key.SignData([.. authData, .. SHA256.HashData(clientData)], HashAlgorithmName.SHA256,
                DSASignatureFormat.Rfc3279DerSequence);
            return new WebAuthnAssertion(Id, Base64Url.EncodeToString(authData), Base64Url.EncodeToString(clientData),
                Base64Url.EncodeToString(signature));
        }

        public void Dispose() => Key.Dispose();
    }

    private static SupportGrant Grant(long notBefore = 1_000, long notAfter = 2_000, string scope = SupportScopes.Status) =>
        new(Guid.NewGuid(), Tenant, Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), scope, notBefore, notAfter);

    [Fact]
    public void A_genuine_assertion_over_the_grant_verifies_against_the_pinned_key()
    {
        using var passkey = new Passkey();
        var set = new SupportApproverSet(Tenant, 1, RpId, Origin, [passkey.Approver(Approver)]);
        var grant = Grant();

        Assert.True(WebAuthnVerifier.TryVerify(passkey.Sign(grant.Challenge()), set, grant.Challenge(), out var approver, out var refusal), refusal);
        Assert.Equal(Approver, approver!.UserId);
    }

    [Theory]
    [InlineData("another grant", "not this grant's")]
    [InlineData("create ceremony", "webauthn.get")]
    [InlineData("other origin", "pinned origin")]
    [InlineData("other relying party", "relying party")]
    [InlineData("no user verification", "verify the user")]
    [InlineData("unpinned key", "not a pinned approver")]
    [InlineData("tampered signature", "does not verify")]
    public void Every_mismatch_is_refused_with_its_reason(string change, string reason)
    {
        using var passkey = new Passkey();
        using var stranger = new Passkey();
        var set = new SupportApproverSet(Tenant, 1, RpId, Origin, [passkey.Approver(Approver)]);
        var grant = Grant();
        var challenge = grant.Challenge();
        var assertion = change switch
        {
            "another grant" => passkey.Sign((grant with { NotAfter = grant.NotAfter + 1 }).Challenge()),
            "create ceremony" => passkey.Sign(challenge, type: "webauthn.create"),
            "other origin" => passkey.Sign(challenge, origin: "https://evil.example"),
            "other relying party" => passkey.Sign(challenge, rpId: "evil.example"),
            "no user verification" => passkey.Sign(challenge, flags: 0x01),
            "unpinned key" => stranger.Sign(challenge),
            _ => passkey.Sign(challenge) with { Signature = stranger.Sign(challenge).Signature },
        };

        Assert.False(WebAuthnVerifier.TryVerify(assertion, set, challenge, out _, out var refusal));
        Assert.Contains(reason, refusal);
    }

    [Fact]
    public void Only_an_es256_p256_cose_key_is_imported()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var cose = CoseKey.Encode(key);
        using (var imported = CoseKey.TryImportEs256(Base64Url.EncodeToString(cose))) Assert.NotNull(imported);
        var rs256 = (byte[])cose.Clone();
        rs256[4] = 0x39; // alg: -26 instead of -7
        Assert.Null(CoseKey.TryImportEs256(Base64Url.EncodeToString(rs256)));
        Assert.Null(CoseKey.TryImportEs256(Base64Url.EncodeToString(cose[..40])));
        Assert.Null(CoseKey.TryImportEs256("not base64url!"));
    }

    [Fact]
    public void The_grant_text_is_the_one_the_browser_module_hashes()
    {
        var grant = new SupportGrant(Guid.Parse("0195f3c2-0000-7000-8000-000000000001"), Guid.Parse("0195f3c2-0000-7000-8000-000000000002"),
            Guid.Parse("0195f3c2-0000-7000-8000-000000000003"), Guid.Parse("0195f3c2-0000-7000-8000-000000000004"),
            Guid.Parse("0195f3c2-0000-7000-8000-000000000005"), SupportScopes.StatusAndLogs, 1_765_000_000, 1_765_014_400);

        Assert.Equal("cogrion-support-grant-v1\nrequest:0195f3c2-0000-7000-8000-000000000001\ntenant:0195f3c2-0000-7000-8000-000000000002\n" +
            "workspace:0195f3c2-0000-7000-8000-000000000003\nagent:0195f3c2-0000-7000-8000-000000000004\n" +
            "requester:0195f3c2-0000-7000-8000-000000000005\nscope:status+logs\nnot-before:1765000000\nnot-after:1765014400\n", grant.Canonical());
    }

    [Fact]
    public async Task The_agent_allows_an_action_only_inside_the_window_and_scope_by_its_own_clock()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(500));
        var session = new AgentSession();
        using var identity = ProtocolKeys.Create();
        using var portal = ProtocolKeys.Create();
        session.Use(new AgentState
        {
            AgentId = Guid.NewGuid(),
            TenantId = Tenant,
            WorkspaceId = Guid.NewGuid(),
            PortalUrl = "https://portal.example",
            TokenAudience = "https://portal.example/api/agent/v1/token",
            PrivateKey = Convert.ToBase64String(identity.ExportPkcs8PrivateKey()),
            CommandKeyId = ProtocolKeys.KeyId(portal),
            CommandPublicKey = ProtocolKeys.ExportPublicKey(portal),
            RegisteredAt = clock.GetUtcNow(),
        });
        var ledger = new SupportLedger(session, new MemoryStore(), clock);
        var grant = Grant(notBefore: 1_000, notAfter: 2_000);
        await ledger.RecordAsync(new SupportGrantState(grant.RequestId, grant, "ann", grant.NotAfter), default);

        Assert.Contains("starts at", ledger.Refusal(grant.RequestId, SupportActions.List));
        clock.SetUtcNow(DateTimeOffset.FromUnixTimeSeconds(1_000));
        Assert.Null(ledger.Refusal(grant.RequestId, SupportActions.List));
        Assert.Null(ledger.Refusal(grant.RequestId, SupportActions.Describe));
        Assert.Contains("outside the grant's scope", ledger.Refusal(grant.RequestId, SupportActions.Logs));
        Assert.Contains("no grant", ledger.Refusal(Guid.NewGuid(), SupportActions.List));
        clock.SetUtcNow(DateTimeOffset.FromUnixTimeSeconds(1_999));
        Assert.Null(ledger.Refusal(grant.RequestId, SupportActions.List));
        clock.SetUtcNow(DateTimeOffset.FromUnixTimeSeconds(2_000));
        Assert.Contains("ended at", ledger.Refusal(grant.RequestId, SupportActions.List));

        var next = Grant(notBefore: 2_000, notAfter: 3_000);
        await ledger.RecordAsync(new SupportGrantState(next.RequestId, next, "ann", next.NotAfter), default);
        Assert.Null(ledger.Refusal(next.RequestId, SupportActions.List));
        await ledger.RecordAsync(ledger.Find(next.RequestId)! with { EndedReason = "revoked by ann" }, default);
        Assert.Contains("was revoked by ann", ledger.Refusal(next.RequestId, SupportActions.List));
    }

    [Fact]
    public void Expired_and_ended_are_read_from_the_clock_not_stored()
    {
        var created = DateTimeOffset.Parse("2026-12-06T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var pending = new SupportRequest(Guid.NewGuid(), Tenant, "acme", Guid.NewGuid(), "lake", Guid.NewGuid(), Guid.NewGuid(), "sam", "why", null,
            SupportScope.Status, TimeSpan.FromHours(4), SupportRequestStatus.Pending, created, created + SupportRequest.AnswerWithin, null, null,
            null, null, null, null);
        Assert.Equal(SupportRequestStatus.Pending, pending.StatusAt(created.AddHours(11.9)));
        Assert.Equal(SupportRequestStatus.Expired, pending.StatusAt(created.AddHours(12)));

        var approved = pending with
        {
            StoredStatus = SupportRequestStatus.Approved,
            NotBefore = created.AddHours(1),
            NotAfter = created.AddHours(5),
            Grant = GrantDelivery.Recorded
        };
        Assert.True(approved.IsActiveAt(created.AddHours(4.9)));
        Assert.Equal(SupportRequestStatus.Ended, approved.StatusAt(created.AddHours(5)));
        Assert.False(approved.IsActiveAt(created.AddHours(5)));
        Assert.False((approved with { Grant = GrantDelivery.Refused }).IsActiveAt(created.AddHours(2)));
    }

    private sealed class MemoryStore : IAgentStateStore
    {
        public Task<AgentState?> LoadAsync(CancellationToken cancellationToken) => Task.FromResult<AgentState?>(null);

        public Task SaveAsync(AgentState state, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task DeleteAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
