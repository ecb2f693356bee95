using System.Text.Json;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;
using Dapper;
using Fido2NetLib;
using Fido2NetLib.Objects;
using Npgsql;

namespace Cogrion.Portal.Features.Support;

/// <summary>A tenant admin's passkey as the page lists it.</summary>
public sealed record SupportPasskey(string CredentialId, Guid UserId, string Name, DateTimeOffset CreatedAt);

/// <summary>The approver set as it stands: the published version, and a newer one waiting for an approver's endorsement.</summary>
public sealed record ApproverSetState(SupportApproverSet? Published, SupportApproverSet? AwaitingEndorsement);

/// <summary>Where a passkey ceremony runs: the relying party id (the host) and the page's origin, both pinned with the keys.</summary>
public sealed record RelyingParty(string Id, string Origin)
{
    public static RelyingParty FromBaseUri(string baseUri)
    {
        var uri = new Uri(baseUri);
        return new RelyingParty(uri.Host, uri.GetLeftPart(UriPartial.Authority));
    }
}

/// <summary>
/// Tenant admins' passkeys and the approver sets the agents pin (ADR 0090). Registration is checked with Fido2
/// (attestation "none": the key is trusted because a signed-in tenant admin made it, not because of its maker).
/// The first set is published at once (agents pin it on first use); every later one waits until an approver of
/// the published set endorses it with their passkey, so the Portal alone cannot add an approver.
/// </summary>
public sealed class SupportApprovers(NpgsqlDataSource dataSource, AgentCommandQueue commands, AgentRegistry agents, AuditLog audit, TimeProvider time)
{
    private static Fido2 Fido(RelyingParty rp) => new(new Fido2Configuration
    {
        RPID = rp.Id,
        RPName = "Cogrion Portal",
        Origins = new HashSet<string>(StringComparer.Ordinal) { rp.Origin },
    });

    public async Task<IReadOnlyList<SupportPasskey>> PasskeysAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<SupportPasskey>(new CommandDefinition(
            "select credential_id, user_id, name, created_at from support_passkeys where tenant_id = @tenantId order by created_at",
            new { tenantId }, cancellationToken: cancellationToken))).ToList();
    }

    /// <summary>The options for navigator.credentials.create(), as JSON; the page keeps them for <see cref="RegisterAsync"/>.</summary>
    public string BeginRegistration(Guid userId, string username, RelyingParty rp, IReadOnlyList<SupportPasskey> existing)
    {
        var options = Fido(rp).RequestNewCredential(new RequestNewCredentialParams
        {
            User = new Fido2User { Id = userId.ToByteArray(), Name = username, DisplayName = username },
            ExcludeCredentials = existing.Where(p => p.UserId == userId)
                .Select(p => new PublicKeyCredentialDescriptor(System.Buffers.Text.Base64Url.DecodeFromChars(p.CredentialId))).ToList(),
            AuthenticatorSelection = new AuthenticatorSelection
            {
                ResidentKey = ResidentKeyRequirement.Preferred,
                UserVerification = UserVerificationRequirement.Required,
            },
            AttestationPreference = AttestationConveyancePreference.None,
            PubKeyCredParams = [PubKeyCredParam.ES256],
        });
        return options.ToJson();
    }

    /// <summary>Checks the browser's attestation against the options, stores the public key, and makes the next approver set.</summary>
    public async Task<CommandResult<SupportPasskey>> RegisterAsync(Guid tenantId, Guid userId, string optionsJson, string attestationJson,
        string name, RelyingParty rp, Actor actor, CancellationToken cancellationToken)
    {
        name = string.IsNullOrWhiteSpace(name) ? "Passkey" : name.Trim();
        if (name.Length > 60) return CommandResult<SupportPasskey>.Invalid("name", "A passkey name is at most 60 characters.");
        RegisteredPublicKeyCredential credential;
        try
        {
            var attestation = JsonSerializer.Deserialize<AuthenticatorAttestationRawResponse>(attestationJson)
                ?? throw new JsonException("empty");
            credential = await Fido(rp).MakeNewCredentialAsync(new MakeNewCredentialParams
            {
                AttestationResponse = attestation,
                OriginalOptions = CredentialCreateOptions.FromJson(optionsJson),
                IsCredentialIdUniqueToUserCallback = (args, ct) => IsUnusedAsync(args.CredentialId, ct),
            }, cancellationToken);
        }
        catch (Exception ex) when (ex is Fido2VerificationException or JsonException or ArgumentException)
        {
            return CommandResult<SupportPasskey>.Invalid("passkey", $"The passkey could not be registered: {ex.Message}");
        }
        using (var key = CoseKey.TryImportEs256(System.Buffers.Text.Base64Url.EncodeToString(credential.PublicKey)))
            if (key is null) return CommandResult<SupportPasskey>.Invalid("passkey", "Only ES256 (P-256) passkeys can approve support access.");

        var credentialId = System.Buffers.Text.Base64Url.EncodeToString(credential.Id);
        var now = time.GetUtcNow();
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            var published = await PublishedAsync(connection, transaction, tenantId, cancellationToken);
            if (published is not null && (published.RpId != rp.Id || published.Origin != rp.Origin))
                return CommandResult<SupportPasskey>.Invalid("passkey",
                    $"This tenant's approvers are pinned to {published.Origin}; register the passkey there.");
            await connection.ExecuteAsync(new CommandDefinition("""
                insert into support_passkeys (credential_id, tenant_id, user_id, name, public_key, rp_id, origin, created_at)
                values (@credentialId, @tenantId, @userId, @name, @publicKey, @rpId, @origin, @now)
                """, new
            {
                credentialId,
                tenantId,
                userId,
                name,
                publicKey = System.Buffers.Text.Base64Url.EncodeToString(credential.PublicKey),
                rpId = rp.Id,
                origin = rp.Origin,
                now
            }, transaction, cancellationToken: cancellationToken));
            await audit.RecordAsync(new AuditEntry(actor, "support.passkey_registered", tenantId, "support_passkey", credentialId, new { name }),
                transaction, cancellationToken);
            await NextSetAsync(connection, transaction, tenantId, rp, published, actor, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        await SendToTenantAgentsAsync(tenantId, actor, cancellationToken);
        return CommandResult<SupportPasskey>.Ok(new SupportPasskey(credentialId, userId, name, now));
    }

    private async Task<bool> IsUnusedAsync(byte[] credentialId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return !await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from support_passkeys where credential_id = @id)",
            new { id = System.Buffers.Text.Base64Url.EncodeToString(credentialId) }, cancellationToken: cancellationToken));
    }

    /// <summary>Every passkey of the tenant becomes the next set: published at once when it is the first, else awaiting endorsement.</summary>
    private async Task NextSetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId, RelyingParty rp,
        SupportApproverSet? published, Actor actor, CancellationToken cancellationToken)
    {
        var keys = await connection.QueryAsync<(string CredentialId, string PublicKey, Guid UserId, string Name)>(new CommandDefinition(
            "select credential_id, public_key, user_id, name from support_passkeys where tenant_id = @tenantId order by credential_id",
            new { tenantId }, transaction, cancellationToken: cancellationToken));
        var version = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "select coalesce(max(version), 0) + 1 from support_approver_sets where tenant_id = @tenantId",
            new { tenantId }, transaction, cancellationToken: cancellationToken));
        var set = new SupportApproverSet(tenantId, version, rp.Id, rp.Origin,
            keys.Select(k => new SupportApprover(k.CredentialId, k.PublicKey, k.UserId, k.Name)).ToList());
        var publish = published is null;
        var now = time.GetUtcNow();
        // A newer set replaces any set still waiting: endorsing an older proposal would drop the newest key.
        await connection.ExecuteAsync(new CommandDefinition(
            "delete from support_approver_sets where tenant_id = @tenantId and status = 'awaiting_endorsement'",
            new { tenantId }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into support_approver_sets (tenant_id, version, body, status, created_at, published_at)
            values (@tenantId, @version, @body::jsonb, @status, @now, @publishedAt)
            """, new
        {
            tenantId,
            version,
            body = JsonSerializer.Serialize(set, ProtocolJson.Default.SupportApproverSet),
            status = publish ? "published" : "awaiting_endorsement",
            now,
            publishedAt = publish ? now : (DateTimeOffset?)null,
        }, transaction, cancellationToken: cancellationToken));
        await audit.RecordAsync(new AuditEntry(actor, publish ? "support.approvers_published" : "support.approvers_proposed", tenantId,
            "support_approver_set", version.ToString(System.Globalization.CultureInfo.InvariantCulture),
            new { approvers = set.Approvers.Select(a => new { a.CredentialId, a.Name }) }), transaction, cancellationToken);
    }

    public async Task<ApproverSetState> StateAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var published = await PublishedAsync(connection, null, tenantId, cancellationToken);
        var waiting = await connection.QueryFirstOrDefaultAsync<string>(new CommandDefinition(
            "select body::text from support_approver_sets where tenant_id = @tenantId and status = 'awaiting_endorsement' order by version desc " +
                "limit 1",
            new { tenantId }, cancellationToken: cancellationToken));
        return new ApproverSetState(published, waiting is null ? null : JsonSerializer.Deserialize(waiting, ProtocolJson.Default.SupportApproverSet));
    }

    public async Task<SupportApproverSet?> PublishedAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await PublishedAsync(connection, null, tenantId, cancellationToken);
    }

    private static async Task<SupportApproverSet?> PublishedAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid tenantId,
        CancellationToken cancellationToken)
    {
        var body = await connection.QueryFirstOrDefaultAsync<string>(new CommandDefinition(
            "select body::text from support_approver_sets where tenant_id = @tenantId and status = 'published' order by version desc limit 1",
            new { tenantId }, transaction, cancellationToken: cancellationToken));
        return body is null ? null : JsonSerializer.Deserialize(body, ProtocolJson.Default.SupportApproverSet);
    }

    /// <summary>Publishes the waiting set when an approver of the published one endorsed exactly it.</summary>
    public async Task<CommandResult<SupportApproverSet>> EndorseAsync(Guid tenantId, long version, WebAuthnAssertion endorsement, Actor actor,
        CancellationToken cancellationToken)
    {
        var state = await StateAsync(tenantId, cancellationToken);
        if (state.AwaitingEndorsement is not { } waiting || waiting.Version != version || state.Published is not { } published)
            return CommandResult<SupportApproverSet>.Invalid("endorsement", "No approver set of this version is waiting.");
        if (!WebAuthnVerifier.TryVerify(endorsement, published, waiting.Challenge(), out var approver, out var why))
            return CommandResult<SupportApproverSet>.Invalid("endorsement", $"The endorsement does not verify: {why}.");
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            var updated = await connection.ExecuteAsync(new CommandDefinition("""
                update support_approver_sets set status = 'published', endorsement = @endorsement::jsonb, published_at = @now
                where tenant_id = @tenantId and version = @version and status = 'awaiting_endorsement'
                """, new
            {
                tenantId,
                version,
                endorsement = JsonSerializer.Serialize(endorsement, ProtocolJson.Default.WebAuthnAssertion),
                now = time.GetUtcNow()
            }, transaction, cancellationToken: cancellationToken));
            if (updated == 0) return CommandResult<SupportApproverSet>.Invalid("endorsement", "The approver set changed meanwhile.");
            await audit.RecordAsync(new AuditEntry(actor, "support.approvers_published", tenantId, "support_approver_set",
                version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                new { endorsedBy = approver!.Name, credential = approver.CredentialId }), transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        await SendToTenantAgentsAsync(tenantId, actor, cancellationToken);
        return CommandResult<SupportApproverSet>.Ok(waiting);
    }

    /// <summary>Sends every published version, oldest first, to one agent; the idempotency key makes each one command per agent.</summary>
    public async Task SendToAgentAsync(Guid tenantId, Guid agentId, Actor actor, CancellationToken cancellationToken)
    {
        IReadOnlyList<(string Body, string? Endorsement)> versions;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
            versions = (await connection.QueryAsync<(string, string?)>(new CommandDefinition("""
                select body::text, endorsement::text from support_approver_sets where tenant_id = @tenantId and status = 'published'
                order by version
                """, new { tenantId }, cancellationToken: cancellationToken))).ToList();
        foreach (var (body, endorsement) in versions)
        {
            var set = JsonSerializer.Deserialize(body, ProtocolJson.Default.SupportApproverSet)!;
            var payload = new SupportApproversPayload(set,
                endorsement is null ? null : JsonSerializer.Deserialize(endorsement, ProtocolJson.Default.WebAuthnAssertion));
            await commands.EnqueueAsync(new NewAgentCommand(tenantId, agentId, CommandTypes.SupportApprovers,
                JsonSerializer.SerializeToNode(payload, ProtocolJson.Default.SupportApproversPayload)!.AsObject(),
                $"support-approvers:{tenantId:N}:{set.Version}", TimeSpan.FromDays(7)), actor, cancellationToken);
        }
    }

    private async Task SendToTenantAgentsAsync(Guid tenantId, Actor actor, CancellationToken cancellationToken)
    {
        foreach (var agentId in await agents.ActiveAgentIdsAsync(tenantId, cancellationToken))
            await SendToAgentAsync(tenantId, agentId, actor, cancellationToken);
    }
}
