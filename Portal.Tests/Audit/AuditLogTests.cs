using System.Security.Claims;
using Cogrion.Portal.Features.Audit;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Cogrion.Portal.Tests.Audit;

public sealed class AuditLogTests : IAsyncLifetime
{
    private NpgsqlDataSource dataSource = null!;
    private AuditLog audit = null!;
    private AuditQueries queries = null!;

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.GetAsync();
        dataSource = NpgsqlDataSource.Create(server.ConnectionString(await server.CreateMigratedDatabaseAsync("audit")));
        audit = new AuditLog(dataSource, new SecretRedactor([TestSettings.ClientSecret]), TimeProvider.System, new HttpContextAccessor());
        queries = new AuditQueries(dataSource);
    }

    public async Task DisposeAsync() => await dataSource.DisposeAsync();

    private static readonly Actor Alice = Actor.User(Guid.NewGuid(), "alice");

    [Fact]
    public async Task A_sign_in_records_the_user_and_an_audit_event_for_it()
    {
        var directory = new UserDirectory(dataSource, audit);
        var principal = new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(PortalClaims.Subject, "subject-1"),
            new Claim(ClaimTypes.Name, "alice"),
            new Claim(ClaimTypes.Email, "alice@example.com"),
            new Claim(PortalClaims.EmailVerified, "true"),
            new Claim(ClaimTypes.Role, "platform-admin"),
        ], "test"));

        var user = await directory.RecordSignInAsync(principal, CancellationToken.None);

        var page = await queries.SearchAsync(new AuditScope.Everything(), new AuditFilter(Action: "session.signed_in"), 0, 10,
            CancellationToken.None);
        var recorded = Assert.Single(page.Events);
        Assert.Equal("user", recorded.ActorKind);
        Assert.Equal(user.Id.ToString(), recorded.ActorId);
        Assert.Equal("alice", recorded.ActorName);
        Assert.Contains("platform-admin", recorded.Details);
        Assert.True(user.EmailVerified);
    }

    [Fact]
    public async Task A_configured_secret_never_reaches_the_audit_trail_whatever_field_carries_it()
    {
        var secret = TestSettings.ClientSecret;

        await audit.RecordAsync(new AuditEntry(Alice, "settings.changed", TargetKind: "client", TargetId: $"id-{secret}",
            Details: new
            {
                note = $"the secret is {secret}",
                password = "hunter2-hunter2",
                nested = new { apiKey = "abc123456", list = new[] { secret } }
            }),
            CancellationToken.None);

        await using var connection = await dataSource.OpenConnectionAsync();
        var everything = string.Join("\n", await connection.QueryAsync<string>("select row_to_json(a)::text from audit_events a"));
        Assert.DoesNotContain(secret, everything);
        Assert.DoesNotContain("hunter2-hunter2", everything);
        Assert.DoesNotContain("abc123456", everything);
        Assert.Contains(SecretRedactor.Mask, everything);
    }

    [Fact]
    public async Task Audit_events_cannot_be_updated_deleted_or_truncated()
    {
        await audit.RecordAsync(new AuditEntry(Alice, "thing.created"), CancellationToken.None);
        await using var connection = await dataSource.OpenConnectionAsync();

        var update = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("update audit_events set action = 'x'"));
        var delete = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("delete from audit_events"));
        var truncate = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("truncate audit_events"));

        Assert.All([update, delete, truncate], e => Assert.Contains("append-only", e.MessageText));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("select count(*) from audit_events"));
    }

    [Fact]
    public async Task An_intact_chain_verifies_and_a_tampered_event_is_found()
    {
        var tenant = Guid.NewGuid();
        for (var i = 0; i < 5; i++)
            await audit.RecordAsync(new AuditEntry(Alice, $"thing.changed", TenantId: tenant, TargetId: i.ToString()), CancellationToken.None);
        Assert.Null(await queries.FindFirstBrokenLinkAsync(tenant, CancellationToken.None));

        // Someone with superuser rights edits history behind the triggers' back.
        await using var connection = await dataSource.OpenConnectionAsync();
        var third = await connection.ExecuteScalarAsync<long>("select id from audit_events where tenant_id = @tenant order by id offset 2 limit 1",
            new { tenant });
        await connection.ExecuteAsync("""
            alter table audit_events disable trigger audit_events_append_only;
            update audit_events set details = '{"forged": true}' where id = @third;
            alter table audit_events enable trigger audit_events_append_only;
            """, new { third });

        Assert.Equal(third, await queries.FindFirstBrokenLinkAsync(tenant, CancellationToken.None));
    }

    [Fact]
    public async Task A_removed_event_breaks_the_chain_at_its_successor()
    {
        for (var i = 0; i < 4; i++)
            await audit.RecordAsync(new AuditEntry(Alice, "thing.changed", TargetId: i.ToString()), CancellationToken.None);
        await using var connection = await dataSource.OpenConnectionAsync();
        var ids = (await connection.QueryAsync<long>("select id from audit_events where tenant_id is null order by id")).ToList();
        await connection.ExecuteAsync("""
            alter table audit_events disable trigger audit_events_append_only;
            delete from audit_events where id = @id;
            alter table audit_events enable trigger audit_events_append_only;
            """, new { id = ids[1] });

        Assert.Equal(ids[2], await queries.FindFirstBrokenLinkAsync(null, CancellationToken.None));
    }

    [Fact]
    public async Task Concurrent_writers_keep_one_chain_intact()
    {
        var tenant = Guid.NewGuid();

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            audit.RecordAsync(new AuditEntry(Alice, "thing.changed", TenantId: tenant, TargetId: i.ToString()), CancellationToken.None)));

        Assert.Null(await queries.FindFirstBrokenLinkAsync(tenant, CancellationToken.None));
        var page = await queries.SearchAsync(new AuditScope.Everything(), new AuditFilter(), 0, 100, CancellationToken.None);
        Assert.Equal(40, page.Total);
    }

    [Fact]
    public async Task A_person_who_is_not_a_platform_admin_reads_only_their_own_actions()
    {
        var bob = Actor.User(Guid.NewGuid(), "bob");
        await audit.RecordAsync(new AuditEntry(Alice, "thing.created"), CancellationToken.None);
        await audit.RecordAsync(new AuditEntry(bob, "thing.created"), CancellationToken.None);

        var own = await queries.SearchAsync(new AuditScope.OwnActions(bob.Id), new AuditFilter(), 0, 10, CancellationToken.None);

        var only = Assert.Single(own.Events);
        Assert.Equal("bob", only.ActorName);
    }

    [Fact]
    public async Task Filters_narrow_by_action_actor_kind_and_time()
    {
        await audit.RecordAsync(new AuditEntry(Alice, "tenant.created"), CancellationToken.None);
        await audit.RecordAsync(new AuditEntry(Actor.System("job-engine"), "job.failed"), CancellationToken.None);

        var byAction = await queries.SearchAsync(new AuditScope.Everything(), new AuditFilter(Action: "tenant"), 0, 10, CancellationToken.None);
        var byKind = await queries.SearchAsync(new AuditScope.Everything(), new AuditFilter(ActorKind: "system"), 0, 10, CancellationToken.None);
        var inFuture = await queries.SearchAsync(new AuditScope.Everything(), new AuditFilter(From: DateTimeOffset.UtcNow.AddHours(1)), 0, 10,
            CancellationToken.None);

        Assert.Equal("tenant.created", Assert.Single(byAction.Events).Action);
        Assert.Equal("job.failed", Assert.Single(byKind.Events).Action);
        Assert.Empty(inFuture.Events);
    }
}
