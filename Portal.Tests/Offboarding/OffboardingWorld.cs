using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Cogrion.Portal.Features.Offboarding;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Cogrion.Portal.Tests.Offboarding;

/// <summary>What the offboarding tests share: seeding a tree of tenants with people, waiting for an offboarding, and checking its files.</summary>
public static class OffboardingWorld
{
    public static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    public sealed record Seeded(Guid Root, Guid Child, Guid Other, TestUser Admin, TestUser Viewer, TestUser OnlyHere, TestUser AlsoElsewhere);

    /// <summary>
    /// "acme" with a child "acme-lab", and an unrelated "other": an admin of acme, a viewer of acme, a member only of acme-lab, and a
    /// member of both acme-lab and other; sessions for the two members, an open invitation, a cloud account, audited changes in every chain.
    /// </summary>
    public static async Task<Seeded> SeedAsync(string connectionString, IServiceProvider services, Guid? root = null, string slug = "acme")
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        async Task<Guid> Tenant(string s, Guid? parent) => await connection.ExecuteScalarAsync<Guid>(
            "insert into tenants (parent_id, slug, name, domain) values (@parent, @s, @s, @domain) returning id",
            new { parent, s, domain = $"{s}.{TestSettings.BaseDomain}" });
        var rootId = root ?? await Tenant(slug, null);
        var child = await Tenant($"{slug}-lab", rootId);
        var other = await Tenant($"{slug}-other", null);
        var admin = await TestUsers.CreateAsync(connection, $"{slug}-admin", subject: $"sub-{slug}-admin");
        var viewer = await TestUsers.CreateAsync(connection, $"{slug}-viewer", subject: $"sub-{slug}-viewer");
        var onlyHere = await TestUsers.CreateAsync(connection, $"{slug}-only", subject: $"sub-{slug}-only");
        var elsewhere = await TestUsers.CreateAsync(connection, $"{slug}-both", subject: $"sub-{slug}-both");
        async Task Grant(Guid tenant, TestUser user, string role) => await connection.ExecuteAsync(
            "insert into tenant_memberships (tenant_id, user_id, role) values (@tenant, @user, @role::tenant_role)",
            new { tenant, user = user.Id, role });
        await Grant(rootId, admin, "admin");
        await Grant(rootId, viewer, "viewer");
        await Grant(child, onlyHere, "operator");
        await Grant(child, elsewhere, "viewer");
        await Grant(other, elsewhere, "admin");
        foreach (var user in new[] { onlyHere, elsewhere })
        {
            await connection.ExecuteAsync("""
                insert into authentication_sessions (key_hash, subject, user_id, protected_ticket, created_at, renewed_at, expires_at)
                values (sha256(convert_to(gen_random_uuid()::text, 'UTF8')), @subject, @id, '\x00', now(), now(), now() + interval '1 hour')
                """, new { subject = $"sub-{user.Username}", id = user.Id });
        }
        await connection.ExecuteAsync("""
            insert into tenant_invitations (tenant_id, email, role, created_at, sent_at, expires_at)
            values (@child, 'new@example.com', 'viewer', now(), now(), now() + interval '7 days')
            """, new { child });
        await connection.ExecuteAsync("""
            insert into cloud_accounts (tenant_id, provider, name, account_ref, role_arn, external_id, status)
            values (@rootId, 'aws', 'prod', '123456789012', 'arn:aws:iam::123456789012:role/ops/cogrion-provisioner', 'ext-1', 'verified'),
                   (@other, 'sandbox', 'other-sandbox', 'ref-other', '', 'ext-2', 'verified')
            """, new { rootId, other });
        var audit = services.GetRequiredService<AuditLog>();
        foreach (var (tenant, action) in new[] { (rootId, "test.root_changed"), (child, "test.child_changed"), (other, "test.other_changed"),
                     (rootId, "test.root_changed_again") })
            await audit.RecordAsync(new AuditEntry(Actor.System("seed"), action, tenant, "tenant", tenant.ToString(),
                new { note = "ünïcode ✓ and \"quotes\"", n = 1.50 }), CancellationToken.None);
        return new Seeded(rootId, child, other, admin, viewer, onlyHere, elsewhere);
    }

    public static async Task<TenantContext> ContextAsync(IServiceProvider services, Guid tenantId, TestUser user, TenantRole role)
    {
        var tenant = await services.GetRequiredService<TenantStore>().FindAsync(tenantId, CancellationToken.None);
        return new TenantContext(tenant!, role, TenantAccessSource.Member, user.Id);
    }

    public static Task<OffboardingRecord> WaitForAsync(IServiceProvider services, Guid id, Func<OffboardingRecord, bool> accept, string what) =>
        Eventually.ValueAsync(async () => (await services.GetRequiredService<OffboardingStore>().FindAsync(id, CancellationToken.None))!,
            accept, what, Deadline);

    /// <summary>Runs a bundle's own verify.py (from <paramref name="unpacked"/>) on <paramref name="target"/>: a zip or a directory.</summary>
    public static Task<ProcessRunner.Result> VerifyBundleAsync(string unpacked, string target) =>
        ProcessRunner.RunAsync("python3", [Path.Combine(unpacked, "verify.py"), target]);

    /// <summary>Unpacks the bundle into a new directory (verify.py included) and returns it.</summary>
    public static string Unpack(byte[] bundle)
    {
        var directory = Directory.CreateTempSubdirectory("cogrion-bundle-").FullName;
        using var zip = new ZipArchive(new MemoryStream(bundle));
        zip.ExtractToDirectory(directory);
        return directory;
    }

    /// <summary>Checks a certificate with openssl alone, against the key the Portal publishes: true when "Verified OK".</summary>
    public static async Task<(bool Verified, JsonElement Document)> VerifyCertificateAsync(string certificateJson, string publicKeyPem)
    {
        var directory = Directory.CreateTempSubdirectory("cogrion-certificate-").FullName;
        var certificate = JsonDocument.Parse(certificateJson).RootElement;
        var payload = Convert.FromBase64String(certificate.GetProperty("payload").GetString()!);
        await File.WriteAllBytesAsync(Path.Combine(directory, "payload.json"), payload);
        await File.WriteAllBytesAsync(Path.Combine(directory, "signature.der"),
            Convert.FromBase64String(certificate.GetProperty("signature").GetString()!));
        await File.WriteAllTextAsync(Path.Combine(directory, "key.pem"), publicKeyPem, Encoding.ASCII);
        var result = await ProcessRunner.RunAsync("openssl", ["dgst", "-sha256", "-verify", Path.Combine(directory, "key.pem"), "-signature",
            Path.Combine(directory, "signature.der"), Path.Combine(directory, "payload.json")]);
        return (result.ExitCode == 0 && result.StandardOutput.Contains("Verified OK", StringComparison.Ordinal),
            JsonDocument.Parse(payload).RootElement.Clone());
    }

    /// <summary>Every row, in any table with a tenant_id column or the tenants table, that still belongs to one of the tenants.</summary>
    public static async Task<Dictionary<string, long>> RowsOfAsync(string connectionString, IReadOnlyList<Guid> tenants)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var tables = await connection.QueryAsync<string>("""
            select c.table_name from information_schema.columns c join information_schema.tables t
              on t.table_schema = c.table_schema and t.table_name = c.table_name
            where c.table_schema = current_schema() and c.column_name = 'tenant_id' and t.table_type = 'BASE TABLE'
            """);
        var counts = new Dictionary<string, long>();
        foreach (var table in tables)
            counts[table] = await connection.ExecuteScalarAsync<long>($"select count(*) from \"{table}\" where tenant_id = any(@ids)",
                new { ids = tenants.ToArray() });
        counts["tenants"] = await connection.ExecuteScalarAsync<long>("select count(*) from tenants where id = any(@ids)",
            new { ids = tenants.ToArray() });
        return counts;
    }
}
