using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Jobs;
using Cogrion.Portal.Infrastructure.Audit;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>
/// Step 1: the bundle the tenant takes away. JSON files of everything the Portal holds about the subtree (never a secret: cloud accounts
/// hold a role and an external ID, never a key; agents without their token hashes), the full audit trail as one JSON line per event with the
/// exact fields the hash covers, a manifest of every file's SHA-256 and each chain's head, and verify.py, which checks it all offline.
/// Idempotent: a bundle already stored is kept.
/// </summary>
public sealed class ExportStep(NpgsqlDataSource dataSource, TimeProvider time) : IOffboardingStep
{
    public const string VerifierName = "verify.py";

    public OffboardingStep Step => OffboardingStep.Export;

    public async Task<StepOutcome> RunAsync(OffboardingRecord offboarding, OffboardingPlan plan, Actor actor, JobContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (offboarding.HasBundle) return StepOutcome.Finished([$"Bundle already exported (SHA-256 {offboarding.BundleSha256})."]);
        var (bundle, summary) = await WriteAsync(offboarding, plan, cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "update offboardings set bundle = @bundle, bundle_sha256 = @digest where id = @id and bundle is null",
            new { id = offboarding.Id, bundle, digest = SHA256.HashData(bundle) }, cancellationToken: cancellationToken));
        return StepOutcome.Finished([$"Exported the bundle ({bundle.Length:N0} bytes): {summary}."]);
    }

    public async Task<(byte[] Bundle, string Summary)> WriteAsync(OffboardingRecord offboarding, OffboardingPlan plan,
        CancellationToken cancellationToken)
    {
        var ids = plan.TenantIds.ToArray();
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);

        // One consistent snapshot (repeatable read) of every table, each as a JSON array of its rows.
        var tables = new (string File, string Sql)[]
        {
            ("tenants.json", "select to_jsonb(t) from tenants t where id = any(@ids) order by created_at"),
            ("members.json", """
                select jsonb_build_object('tenant_id', m.tenant_id, 'user_id', u.id, 'username', u.username, 'email', u.email,
                                          'display_name', u.display_name, 'role', m.role, 'member_since', m.created_at)
                from tenant_memberships m join users u on u.id = m.user_id where m.tenant_id = any(@ids) order by u.username
                """),
            ("invitations.json", "select to_jsonb(i) from tenant_invitations i where tenant_id = any(@ids) order by created_at"),
            ("cloud-accounts.json", "select to_jsonb(c) from cloud_accounts c where tenant_id = any(@ids) order by created_at"),
            ("state-backends.json", "select to_jsonb(s) from state_backends s where tenant_id = any(@ids)"),
            ("workspaces.json", "select to_jsonb(w) from workspaces w where tenant_id = any(@ids) order by created_at"),
            ("runs.json", "select to_jsonb(r) from workspace_runs r where tenant_id = any(@ids) order by created_at"),
            ("apps.json", """
                select to_jsonb(a) - 'report' || jsonb_build_object('revisions',
                    (select coalesce(jsonb_agg(to_jsonb(v) - 'app_id' order by v.revision), '[]') from workspace_app_revisions v where v.app_id = a.id))
                from workspace_apps a where tenant_id = any(@ids) order by created_at
                """),
            ("agents.json", """
                select to_jsonb(a) - 'access_token_hash' - 'access_token_expires_at' - 'inventory'
                from agents a where tenant_id = any(@ids) order by registered_at
                """),
        };
        var counts = new List<string>();
        foreach (var (file, sql) in tables)
        {
            var rows = (await connection.QueryAsync<string>(new CommandDefinition($"select x::text from ({sql}) as q (x)", new { ids }, transaction,
                cancellationToken: cancellationToken))).ToList();
            var array = new JsonArray(rows.Select(r => JsonNode.Parse(r)).ToArray());
            files[file] = Encoding.UTF8.GetBytes(array.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            counts.Add($"{rows.Count} {file[..file.IndexOf('.')]}");
        }

        var chains = new JsonObject();
        var events = 0;
        foreach (var tenant in plan.TenantIds)
        {
            var (lines, count, head) = await AuditChainAsync(connection, transaction, tenant, cancellationToken);
            files[$"audit/{tenant}.jsonl"] = lines;
            chains[tenant.ToString()] = new JsonObject { ["events"] = count, ["head"] = head };
            events += count;
        }
        counts.Add($"{events} audit events in {plan.TenantIds.Count} chain(s)");
        files[VerifierName] = Verifier();
        files["README.txt"] = Encoding.UTF8.GetBytes(Readme(plan));

        var manifest = new JsonObject
        {
            ["format"] = "cogrion-offboarding-bundle/1",
            ["offboarding"] = offboarding.Id.ToString(),
            ["tenant"] = plan.Root.Slug,
            ["exported_at"] = time.GetUtcNow().ToString("O"),
            ["files"] = new JsonObject(files.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)Convert.ToHexStringLower(SHA256.HashData(f.Value))))),
            ["chains"] = chains,
        };
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in files.Append(KeyValuePair.Create("manifest.json",
                Encoding.UTF8.GetBytes(manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true })))))
            {
                var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
                await using var stream = await entry.OpenAsync(cancellationToken);
                await stream.WriteAsync(content, cancellationToken);
            }
        }
        return (buffer.ToArray(), string.Join(", ", counts));
    }

    /// <summary>The tenant's chain, one event per line, with the fields exactly as audit_event_payload renders them (ADR 0007).</summary>
    private static async Task<(byte[] Lines, int Count, string? Head)> AuditChainAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        Guid tenant, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<string>(new CommandDefinition("""
            select jsonb_build_object(
                'id', id,
                'occurred_at', to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                'actor_kind', actor_kind, 'actor_id', actor_id, 'actor_name', actor_name, 'tenant_id', tenant_id::text,
                'action', action, 'target_kind', target_kind, 'target_id', target_id, 'request_id', request_id,
                'details', details::text, 'prev_hash', encode(prev_hash, 'hex'), 'hash', encode(hash, 'hex'))::text
            from audit_events where tenant_id = @tenant order by id
            """, new { tenant }, transaction, cancellationToken: cancellationToken));
        var builder = new StringBuilder();
        var count = 0;
        string? head = null;
        foreach (var row in rows)
        {
            builder.Append(row).Append('\n');
            head = JsonNode.Parse(row)!["hash"]!.GetValue<string>();
            count++;
        }
        return (Encoding.UTF8.GetBytes(builder.ToString()), count, head);
    }

    public static byte[] Verifier()
    {
        using var stream = typeof(ExportStep).Assembly.GetManifestResourceStream("offboarding-verify.py")
            ?? throw new InvalidOperationException("verify.py is not embedded in the Portal.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string Readme(OffboardingPlan plan) => $"""
        Cogrion offboarding bundle of {plan.Root.Name} ({plan.Root.Slug}) and {plan.Tenants.Count - 1} child tenant(s).

        Check it, offline, with Python 3 (standard library only):

            python3 verify.py <this zip>        (or the directory you unpacked it into)

        It checks every file against manifest.json and every audit chain (audit/<tenant id>.jsonl) link by link.
        Your deletion certificate, which the Portal signed, names this zip's SHA-256 ("bundle_sha256"), so it vouches
        for this very file; docs/offboarding.md tells how to check the certificate's signature with openssl.

        No secret is in this bundle: cloud accounts hold the role and external ID, never a key; apps hold the values
        you entered (secrets travel through the secrets channel and were never stored by the Portal).

        """;
}
