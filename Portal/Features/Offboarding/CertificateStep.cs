using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Jobs;
using Cogrion.Portal.Infrastructure.Audit;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>
/// A deletion certificate as the tenant downloads it: <c>payload</c> is the signed document (base64 of its exact UTF-8 bytes),
/// <c>signature</c> an ECDSA P-256 SHA-256 signature over those bytes in DER (what <c>openssl dgst -sha256 -verify</c> reads).
/// </summary>
public sealed record SignedCertificate(string Format, string KeyId, string PublicKeyUrl, string Payload, string Signature);

/// <summary>
/// Step 6: the proof. What was removed and what stays the tenant's (every step's report), when, by whom, the audit chain heads at the start
/// and now, and the bundle's SHA-256, signed by the Portal's certificate key. Then the purge is scheduled: now, or after the platform's
/// retention. Idempotent: a certificate already issued is kept.
/// </summary>
public sealed class CertificateStep(
    NpgsqlDataSource dataSource, CertificateKeys keys, AuditLog audit, IOptions<OffboardingOptions> options, TimeProvider time) : IOffboardingStep
{
    public const string Format = "cogrion-deletion-certificate/1";

    public OffboardingStep Step => OffboardingStep.Certificate;

    public async Task<StepOutcome> RunAsync(OffboardingRecord offboarding, OffboardingPlan plan, Actor actor, JobContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (offboarding.Certificate is not null) return StepOutcome.Finished(["The deletion certificate was issued."]);
        var now = time.GetUtcNow();
        var purgeAfter = plan.Purge == PurgeTiming.Immediately ? now : now + options.Value.PurgeRetention;

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var heads = await OffboardingStore.ChainHeadsAsync(connection, transaction, plan.TenantIds, cancellationToken);
        var key = await keys.GetAsync(cancellationToken);
        var document = Document(offboarding, plan, heads, now, purgeAfter, key.KeyId);
        var bytes = Encoding.UTF8.GetBytes(document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var signature = key.Key.SignData(bytes, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var certificate = new SignedCertificate(Format, key.KeyId, OffboardingEndpoints.PublicKeyPath, Convert.ToBase64String(bytes),
            Convert.ToBase64String(signature));
        var text = JsonSerializer.Serialize(certificate, OffboardingStore.Json);

        await connection.ExecuteAsync(new CommandDefinition("""
            update offboardings
            set certificate = @text, certificate_sha256 = @digest, chain_heads_end = @heads::jsonb, purge_after = @purgeAfter
            where id = @id and certificate is null
            """,
            new { id = offboarding.Id, text, digest = SHA256.HashData(bytes), heads = OffboardingStore.ToJson(heads), purgeAfter },
            transaction, cancellationToken: cancellationToken));
        await audit.RecordAsync(new AuditEntry(actor, "offboarding.certificate_issued", plan.Root.Id, "offboarding", offboarding.Id.ToString(),
            new { key_id = key.KeyId, certificate_sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), purge_after = purgeAfter }),
            transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return StepOutcome.Finished([$"Issued the deletion certificate, signed with key {key.KeyId}.",
            plan.Purge == PurgeTiming.Immediately ? "The metadata is purged now."
                : $"The metadata is purged after {purgeAfter:yyyy-MM-dd HH:mm} UTC."]);
    }

    private static JsonObject Document(OffboardingRecord offboarding, OffboardingPlan plan, IReadOnlyDictionary<Guid, string?> headsEnd,
        DateTimeOffset issuedAt, DateTimeOffset purgeAfter, string keyId)
    {
        var steps = new JsonObject();
        foreach (var (step, report) in offboarding.Progress.OrderBy(p => p.Key))
        {
            steps[step.ToString()] = new JsonObject
            {
                ["finished_at"] = report.FinishedAt?.ToString("O"),
                ["done"] = new JsonArray(report.Done.Select(d => (JsonNode?)d).ToArray()),
                ["left_to_tenant"] = new JsonArray(report.LeftToTenant.Select(d => (JsonNode?)d).ToArray()),
            };
        }
        return new JsonObject
        {
            ["format"] = Format,
            ["offboarding"] = offboarding.Id.ToString(),
            ["tenant"] = new JsonObject { ["id"] = plan.Root.Id.ToString(), ["slug"] = plan.Root.Slug, ["name"] = plan.Root.Name },
            ["child_tenants"] = new JsonArray(plan.Children.Select(t => (JsonNode?)new JsonObject
            {
                ["id"] = t.Id.ToString(),
                ["slug"] = t.Slug,
                ["name"] = t.Name,
            }).ToArray()),
            ["requested_by"] = new JsonObject { ["id"] = offboarding.RequestedBy?.ToString(), ["name"] = offboarding.RequestedByName },
            ["started_at"] = offboarding.StartedAt.ToString("O"),
            ["issued_at"] = issuedAt.ToString("O"),
            ["purge_after"] = purgeAfter.ToString("O"),
            ["workspaces"] = new JsonArray(plan.Workspaces.Select(w => (JsonNode?)new JsonObject
            {
                ["id"] = w.Id.ToString(),
                ["name"] = w.Name,
                ["cloud_account"] = w.CloudAccountName,
                ["fate"] = w.Fate.ToString().ToLowerInvariant(),
                ["apps"] = new JsonArray(w.Apps.Select(a => (JsonNode?)$"{a.App} {a.ChartVersion}").ToArray()),
            }).ToArray()),
            ["members_removed"] = new JsonArray(plan.Members.Select(m => (JsonNode?)m.Username).Distinct().ToArray()),
            ["bundle_sha256"] = offboarding.BundleSha256,
            ["audit_chain_heads_start"] = Heads(offboarding.ChainHeadsStart),
            ["audit_chain_heads_end"] = Heads(headsEnd),
            ["steps"] = steps,
            ["key_id"] = keyId,
        };
    }

    private static JsonObject Heads(IReadOnlyDictionary<Guid, string?> heads) =>
        new(heads.OrderBy(h => h.Key).Select(h => KeyValuePair.Create(h.Key.ToString(), (JsonNode?)h.Value)));
}
