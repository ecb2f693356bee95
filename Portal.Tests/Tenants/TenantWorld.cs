using System.Security.Claims;
using Cogrion.Portal.Features.Audit;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Features.Tenants.Invitations;
using Cogrion.Portal.Features.Tenants.Members;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Configuration;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Cogrion.Portal.Tests.Tenants;

/// <summary>
/// The tenants feature's real services on a migrated database of the test's own: what the rules
/// tests need, without a web host. Users are inserted directly (sign-in is not what these test).
/// </summary>
public sealed class TenantWorld : IAsyncDisposable
{
    public required NpgsqlDataSource DataSource { get; init; }
    public required FakeTimeProvider Clock { get; init; }
    public required TenantStore Tenants { get; init; }
    public required MembershipStore Members { get; init; }
    public required InvitationStore Invitations { get; init; }
    public required UserDirectory Users { get; init; }
    public required AuditQueries AuditQueries { get; init; }
    private readonly ServiceProvider services = BuildAuthorization();

    public static async Task<TenantWorld> CreateAsync()
    {
        var server = await PostgresServer.GetAsync();
        var dataSource = NpgsqlDataSource.Create(server.ConnectionString(await server.CreateMigratedDatabaseAsync("tenants")));
        // Whole seconds: PostgreSQL keeps microseconds, and a test compares what it stored with the clock.
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        var audit = new AuditLog(dataSource, new SecretRedactor([]), clock, new HttpContextAccessor());
        var platform = Options.Create(new PlatformOptions { BaseDomain = TestSettings.BaseDomain });
        var tenantOptions = Options.Create(new TenantOptions { InvitationLifetime = TimeSpan.FromDays(7) });
        return new TenantWorld
        {
            DataSource = dataSource,
            Clock = clock,
            Tenants = new TenantStore(dataSource, audit, platform),
            Members = new MembershipStore(dataSource, audit),
            Invitations = new InvitationStore(dataSource, audit, clock, tenantOptions),
            Users = new UserDirectory(dataSource, audit, [new InvitationBinder(audit, clock, NullLogger<InvitationBinder>.Instance)]),
            AuditQueries = new AuditQueries(dataSource),
        };
    }

    /// <summary>A world with one tenant, created by its first admin: where the membership and invitation rules start.</summary>
    public static async Task<(TenantWorld World, TestUser Admin, Tenant Tenant)> CreateWithTenantAsync(string admin, string slug)
    {
        var world = await CreateAsync();
        var user = await world.UserAsync(admin);
        return (world, user, await world.TenantAsync(user, slug));
    }

    private static ServiceProvider BuildAuthorization() => new ServiceCollection()
        .AddLogging()
        .AddAuthorization(options => options.AddPolicy(PortalPolicies.PlatformAdmin, p => p.RequireRole("platform-admin")))
        .BuildServiceProvider();

    /// <summary>A fresh access service, as one request or circuit would get.</summary>
    public TenantAccess NewAccess()
    {
        var audit = new AuditLog(DataSource, new SecretRedactor([]), Clock, new HttpContextAccessor());
        return new TenantAccess(DataSource, services.GetRequiredService<IAuthorizationService>(), audit, Clock);
    }

    public Task<TestUser> UserAsync(string username, string? email = null, bool verified = true, bool platformAdmin = false) =>
        TestUsers.CreateAsync(DataSource, username, email, verified, platformAdmin);

    /// <summary>Creates a tenant through the store (the creator becomes admin) and fails the test if it is refused.</summary>
    public async Task<Tenant> TenantAsync(TestUser creator, string slug, Tenant? parent = null, string? domain = null)
    {
        var result = await Tenants.CreateAsync(new NewTenant(slug.ToUpperInvariant()[..1] + slug[1..], slug, domain, parent?.Id), creator.Id,
            creator.Username, CancellationToken.None);
        Assert.True(result.Succeeded,
            $"Creating {slug} was refused: {string.Join("; ", result.Errors.ToDictionary().Select(e => $"{e.Key}: {string.Join(' ', e.Value)}"))}");
        return result.Value!;
    }

    /// <summary>Grants a membership directly (the invitation path has tests of its own).</summary>
    public async Task GrantAsync(Tenant tenant, TestUser user, TenantRole role)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("""
            insert into tenant_memberships (tenant_id, user_id, role) values (@tenantId, @userId, @role::tenant_role)
            on conflict (tenant_id, user_id) do update set role = excluded.role
            """, new { tenantId = tenant.Id, userId = user.Id, role = role.ToText() });
    }

    /// <summary>Signs a person in as the identity provider would describe them, through the real sign-in path.</summary>
    public Task<PortalUser> SignInAsync(string subject, string username, string email, bool emailVerified) =>
        Users.RecordSignInAsync(new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(PortalClaims.Subject, subject),
            new Claim(ClaimTypes.Name, username),
            new Claim(ClaimTypes.Email, email),
            new Claim(PortalClaims.EmailVerified, emailVerified ? "true" : "false"),
        ], "test")), CancellationToken.None);

    public async Task<long> CountAsync(string table)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>($"select count(*) from {table}");
    }

    public async ValueTask DisposeAsync()
    {
        await services.DisposeAsync();
        await DataSource.DisposeAsync();
    }
}
