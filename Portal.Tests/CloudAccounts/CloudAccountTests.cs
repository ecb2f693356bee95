using System.Text.Json;
using Cogrion.Portal.Features.Audit;
using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Cogrion.Portal.Tests.CloudAccounts;

/// <summary>Connecting and verifying cloud accounts through the real Portal, its job engine and its OpenTofu runner, on real PostgreSQL.</summary>
public sealed class CloudAccountTests : IAsyncLifetime
{
    private PortalAppFactory portal = null!;
    private string connectionString = null!;
    private TenantContext acme = null!;
    private TenantContext globex = null!;

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.GetAsync();
        connectionString = server.ConnectionString(await server.CreateMigratedDatabaseAsync("accounts"));
        // No OpenTofu here: AWS and AliCloud verifications must fail saying what to install.
        portal = new PortalAppFactory(connectionString, overrides: new Dictionary<string, string?> { ["OpenTofu:Executable"] = "/nonexistent/tofu" });
        _ = portal.Services; // starts the host, its migrations and job workers
        acme = await TenantAsync("acme");
        globex = await TenantAsync("globex");
    }

    public async Task DisposeAsync() => await portal.DisposeAsync();

    private T Get<T>() where T : notnull => portal.Services.GetRequiredService<T>();

    private async Task<TenantContext> TenantAsync(string slug)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var user = await TestUsers.CreateAsync(connection, slug + "-admin", email: $"{slug}@example.com");
        var userId = user.Id;
        var result = await Get<TenantStore>().CreateAsync(new NewTenant(slug, slug, null), userId, user.Username, CancellationToken.None);
        Assert.True(result.Succeeded);
        return (await Get<TenantAccess>().ResolveAsync(user.ToPrincipal(), result.Value!.Id, "/test", CancellationToken.None))!;
    }

    private Actor AdminOf(TenantContext tenant) => Actor.User(tenant.UserId!.Value, tenant.Slug + "-admin");

    private Task<CloudAccount> SettledAsync(TenantContext tenant, Guid id) => Eventually.ValueAsync(
        async () => (await Get<CloudAccountStore>().FindAsync(tenant.TenantId, id, CancellationToken.None))!,
        a => a.Status is CloudAccountStatus.Verified or CloudAccountStatus.Failed, "the verification to finish");

    [Fact]
    public async Task A_sandbox_account_is_verified_by_a_job_and_both_steps_are_audited()
    {
        var result = await Get<CloudAccountCommands>()
            .ConnectAsync(acme, new NewCloudAccount(CloudProvider.Sandbox, "Try-out", null), AdminOf(acme), CancellationToken.None);

        Assert.True(result.Succeeded);
        var account = await SettledAsync(acme, result.Value!.Id);
        Assert.Equal(CloudAccountStatus.Verified, account.Status);
        Assert.StartsWith("sandbox:", account.VerifiedIdentity);
        var trail = await Get<AuditQueries>()
            .SearchAsync(new AuditScope.Everything(), new AuditFilter(Action: "cloud_account"), 0, 10, CancellationToken.None);
        Assert.Contains(trail.Events, e => e.Action == "cloud_account.connected" && e.TenantId == acme.TenantId);
        Assert.Contains(trail.Events, e => e.Action == "cloud_account.verified" && e.ActorKind == "system");
    }

    [Fact]
    public async Task A_failing_sandbox_verification_says_why()
    {
        var result = await Get<CloudAccountCommands>()
            .ConnectAsync(acme, new NewCloudAccount(CloudProvider.Sandbox, "fail-demo", null), AdminOf(acme), CancellationToken.None);

        var account = await SettledAsync(acme, result.Value!.Id);

        Assert.Equal(CloudAccountStatus.Failed, account.Status);
        Assert.Contains("simulated failure", account.StatusReason);
    }

    [Fact]
    public async Task An_aws_account_waits_for_its_role_and_then_is_checked_through_opentofu()
    {
        var commands = Get<CloudAccountCommands>();
        var connected = await commands.ConnectAsync(acme, new NewCloudAccount(CloudProvider.Aws, "Production", "123456789012"), AdminOf(acme),
            CancellationToken.None);
        Assert.Equal(CloudAccountStatus.Pending, connected.Value!.Status);
        Assert.StartsWith("cogrion-", connected.Value.ExternalId);

        var verify = await commands.VerifyAsync(acme, connected.Value.Id, "arn:aws:iam::123456789012:role/cogrion-provisioner", AdminOf(acme),
            CancellationToken.None);
        Assert.True(verify.Succeeded);
        var account = await SettledAsync(acme, connected.Value.Id);

        // The run really went through the OpenTofu runner, which found no OpenTofu on this machine.
        Assert.Equal(CloudAccountStatus.Failed, account.Status);
        Assert.Contains("OpenTofu", account.StatusReason);
        Assert.Contains("opentofu.org", account.StatusReason);
    }

    [Theory]
    [InlineData("Prod", "12345", "accountRef")]
    [InlineData("Prod", "not-digits-1", "accountRef")]
    [InlineData("", "123456789012", "name")]
    public async Task Bad_input_gets_field_errors_and_creates_nothing(string name, string accountRef, string field)
    {
        var result = await Get<CloudAccountCommands>()
            .ConnectAsync(acme, new NewCloudAccount(CloudProvider.Aws, name, accountRef), AdminOf(acme), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.NotNull(result.Errors.For(field));
        Assert.Empty(await Get<CloudAccountStore>().ListAsync(acme.TenantId, CancellationToken.None));
    }

    [Fact]
    public async Task A_role_in_another_account_is_refused()
    {
        var commands = Get<CloudAccountCommands>();
        var connected = await commands.ConnectAsync(acme, new NewCloudAccount(CloudProvider.Aws, "Prod", "123456789012"), AdminOf(acme),
            CancellationToken.None);

        var verify = await commands.VerifyAsync(acme, connected.Value!.Id, "arn:aws:iam::999999999999:role/cogrion-provisioner", AdminOf(acme),
            CancellationToken.None);

        Assert.Contains("not in the connected account", verify.Errors.For("roleArn"));
    }

    [Fact]
    public async Task The_same_name_twice_in_a_tenant_is_refused_but_another_tenant_may_use_it()
    {
        var commands = Get<CloudAccountCommands>();
        await commands.ConnectAsync(acme, new NewCloudAccount(CloudProvider.Aws, "Prod", "123456789012"), AdminOf(acme), CancellationToken.None);

        var again = await commands.ConnectAsync(acme, new NewCloudAccount(CloudProvider.Aws, "Prod", "210987654321"), AdminOf(acme),
            CancellationToken.None);
        var elsewhere = await commands.ConnectAsync(globex, new NewCloudAccount(CloudProvider.Aws, "Prod", "123456789012"), AdminOf(globex),
            CancellationToken.None);

        Assert.NotNull(again.Errors.For("name"));
        Assert.True(elsewhere.Succeeded);
    }

    [Fact]
    public async Task Another_tenants_account_is_not_found_and_cannot_be_verified()
    {
        var commands = Get<CloudAccountCommands>();
        var theirs = await commands.ConnectAsync(globex, new NewCloudAccount(CloudProvider.Aws, "Theirs", "123456789012"), AdminOf(globex),
            CancellationToken.None);

        Assert.Null(await Get<CloudAccountStore>().FindAsync(acme.TenantId, theirs.Value!.Id, CancellationToken.None));
        var verify = await commands.VerifyAsync(acme, theirs.Value.Id, "arn:aws:iam::123456789012:role/x", AdminOf(acme), CancellationToken.None);
        Assert.True(verify.IsNotFound);
    }

    [Fact]
    public async Task No_cloud_key_is_stored_only_the_role_and_its_external_id()
    {
        await using var connection = new NpgsqlConnection(connectionString);
        var columns = (await connection.QueryAsync<string>("select column_name from information_schema.columns where table_name = 'cloud_accounts'"))
            .ToList();

        Assert.DoesNotContain(columns, c => c.Contains("key", StringComparison.OrdinalIgnoreCase)
            || c.Contains("secret", StringComparison.OrdinalIgnoreCase));
        Assert.Contains("role_arn", columns);
        Assert.Contains("external_id", columns);
    }
}

public sealed class TrustSetupTests
{
    private static readonly CloudAccountsOptions Options = new()
    {
        AwsPrincipalArn = "arn:aws:iam::111122223333:role/cogrion-portal",
        AliCloudPrincipal = "acs:ram::1234567890123456:root",
        SuggestedRoleName = "cogrion-provisioner",
    };

    private static CloudAccount Account(CloudProvider provider, string accountRef)
        => new(Guid.NewGuid(), Guid.NewGuid(), provider, "Prod", accountRef, "",
        "cogrion-0123456789abcdef", CloudAccountStatus.Pending, null, null, null, DateTimeOffset.UtcNow);

    [Fact]
    public void The_aws_trust_policy_trusts_only_cogrions_principal_with_this_accounts_external_id()
    {
        var setup = TrustSetupBuilder.For(Account(CloudProvider.Aws, "123456789012"), Options)!;

        var statement = JsonDocument.Parse(setup.TrustPolicyJson).RootElement.GetProperty("Statement")[0];
        Assert.Equal("sts:AssumeRole", statement.GetProperty("Action").GetString());
        Assert.Equal(Options.AwsPrincipalArn, statement.GetProperty("Principal").GetProperty("AWS").GetString());
        Assert.Equal("cogrion-0123456789abcdef", statement.GetProperty("Condition").GetProperty("StringEquals").GetProperty("sts:ExternalId")
            .GetString());
        Assert.Contains("\"sts:ExternalId\" = \"cogrion-0123456789abcdef\"", setup.OpenTofuSnippet);
        Assert.Contains("resource \"aws_iam_role\" \"cogrion\"", setup.OpenTofuSnippet);
    }

    [Fact]
    public void The_alicloud_trust_policy_names_cogrions_ram_principal_and_the_external_id()
    {
        var setup = TrustSetupBuilder.For(Account(CloudProvider.AliCloud, "1234567890123456"), Options)!;

        var statement = JsonDocument.Parse(setup.TrustPolicyJson).RootElement.GetProperty("Statement")[0];
        Assert.Equal(Options.AliCloudPrincipal, statement.GetProperty("Principal").GetProperty("RAM")[0].GetString());
        Assert.Equal("cogrion-0123456789abcdef", statement.GetProperty("Condition").GetProperty("StringEquals").GetProperty("sts:ExternalId")
            .GetString());
        Assert.Contains("resource \"alicloud_ram_role\" \"cogrion\"", setup.OpenTofuSnippet);
    }

    [Fact]
    public void The_sandbox_needs_no_role() => Assert.Null(TrustSetupBuilder.For(Account(CloudProvider.Sandbox, "sandbox-1"), Options));

    [Fact]
    public void External_ids_are_unique_and_unguessable() =>
        Assert.Equal(1000, Enumerable.Range(0, 1000).Select(_ => CloudAccountRules.NewExternalId()).Distinct()
            .Count(id => id.Length == "cogrion-".Length + 40));
}
