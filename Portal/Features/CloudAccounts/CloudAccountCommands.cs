using Cogrion.Jobs;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;
using Cogrion.Portal.Infrastructure.Input;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.CloudAccounts;

public sealed record NewCloudAccount(CloudProvider Provider, string? Name, string? AccountRef);

/// <summary>The outcome of a verification: who the Portal was in the account, or why it could not get in.</summary>
public sealed record VerificationVerdict(bool Verified, string? Identity, string? Reason)
{
    public static VerificationVerdict Success(string identity) => new(true, identity, null);
    public static VerificationVerdict Failure(string reason) => new(false, null, reason);
}

/// <summary>
/// Changes to a tenant's cloud accounts. Each is one transaction with its audit event and, where
/// it asks for one, its verification job: a job never exists without its cause and vice versa.
/// </summary>
public sealed class CloudAccountCommands(NpgsqlDataSource dataSource, JobQueue jobs, AuditLog audit)
{
    /// <summary>
    /// Connects an account. AWS and AliCloud accounts wait for the tenant to create the role with the
    /// external ID generated here; a sandbox account needs no role and is verified at once (simulated).
    /// </summary>
    public async Task<CommandResult<CloudAccount>> ConnectAsync(TenantContext tenant, NewCloudAccount input, Actor actor,
        CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        CloudAccountRules.CheckName(errors, input.Name);
        CloudAccountRules.CheckAccountRef(errors, input.Provider, input.AccountRef?.Trim());
        if (!errors.IsEmpty) return CommandResult<CloudAccount>.Invalid(errors);

        var sandbox = input.Provider == CloudProvider.Sandbox;
        var accountRef = sandbox ? CloudAccountRules.NewSandboxRef() : input.AccountRef!.Trim();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        Guid id;
        try
        {
            id = await connection.ExecuteScalarAsync<Guid>(new CommandDefinition("""
                insert into cloud_accounts (tenant_id, provider, name, account_ref, role_arn, external_id, status, created_by)
                values (@tenantId, @provider::cloud_provider, @name, @accountRef, '', @externalId, @status::cloud_account_status, @createdBy)
                returning id
                """,
                new
                {
                    tenantId = tenant.TenantId,
                    provider = input.Provider.ToKey(),
                    name = InputText.NormalizeName(input.Name!),
                    accountRef,
                    externalId = CloudAccountRules.NewExternalId(),
                    status = sandbox ? "verifying" : "pending",
                    createdBy = tenant.UserId,
                },
                transaction, cancellationToken: cancellationToken));
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return CommandResult<CloudAccount>.Invalid(ex.ConstraintName == "cloud_accounts_name_unique"
                ? FieldErrors.Single("name", "This tenant already has a cloud account with that name.")
                : FieldErrors.Single("accountRef", "This account is already connected to this tenant."));
        }

        await audit.RecordAsync(new AuditEntry(actor, "cloud_account.connected", tenant.TenantId, "cloud_account", id.ToString(),
            new { provider = input.Provider.ToKey(), name = InputText.NormalizeName(input.Name!), accountRef }), transaction, cancellationToken);
        if (sandbox) await EnqueueVerificationAsync(transaction, tenant.TenantId, id, actor, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return CommandResult<CloudAccount>.Ok((await CloudAccountStore.FindAsync(connection, null, tenant.TenantId, id, cancellationToken))!);
    }

    /// <summary>Records the role the tenant created (or re-checks it) and asks for a verification run.</summary>
    public async Task<CommandResult<CloudAccount>> VerifyAsync(TenantContext tenant, Guid accountId, string? roleArn, Actor actor,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var account = await CloudAccountStore.FindAsync(connection, transaction, tenant.TenantId, accountId, cancellationToken);
        if (account is null) return CommandResult<CloudAccount>.NotFound();
        if (account.Status == CloudAccountStatus.Verifying)
            return CommandResult<CloudAccount>.Invalid("roleArn", "A verification is already running for this account.");

        var role = account.Provider == CloudProvider.Sandbox ? "" : (roleArn ?? account.RoleArn).Trim();
        var errors = new FieldErrors();
        CloudAccountRules.CheckRoleArn(errors, account, role);
        if (!errors.IsEmpty) return CommandResult<CloudAccount>.Invalid(errors);

        await connection.ExecuteAsync(new CommandDefinition("""
            update cloud_accounts set role_arn = @role, status = 'verifying', status_reason = null
            where tenant_id = @tenantId and id = @accountId
            """, new { role, tenantId = tenant.TenantId, accountId }, transaction, cancellationToken: cancellationToken));
        await audit.RecordAsync(new AuditEntry(actor, "cloud_account.verification_requested", tenant.TenantId, "cloud_account", accountId.ToString(),
            new { roleArn = role }), transaction, cancellationToken);
        await EnqueueVerificationAsync(transaction, tenant.TenantId, accountId, actor, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return CommandResult<CloudAccount>.Ok((await CloudAccountStore.FindAsync(connection, null, tenant.TenantId, accountId, cancellationToken))!);
    }

    /// <summary>Stores what a verification found. Called by the verification job.</summary>
    public async Task RecordVerificationAsync(CloudAccount account, VerificationVerdict verdict, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            update cloud_accounts
            set status = @status::cloud_account_status, status_reason = @reason, verified_identity = coalesce(@identity, verified_identity),
                verified_at = case when @verified then now() else verified_at end
            where tenant_id = @tenantId and id = @accountId
            """,
            new
            {
                status = verdict.Verified ? "verified" : "failed",
                reason = verdict.Reason,
                identity = verdict.Identity,
                verified = verdict.Verified,
                tenantId = account.TenantId,
                accountId = account.Id,
            }, transaction, cancellationToken: cancellationToken));
        await audit.RecordAsync(new AuditEntry(Actor.System("cloud-accounts"),
            verdict.Verified ? "cloud_account.verified" : "cloud_account.verification_failed", account.TenantId, "cloud_account",
                account.Id.ToString(),
            new { identity = verdict.Identity, reason = verdict.Reason }), transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private Task<long> EnqueueVerificationAsync(NpgsqlTransaction transaction, Guid tenantId, Guid accountId, Actor actor,
        CancellationToken cancellationToken) =>
        jobs.EnqueueAsync(transaction, new VerifyCloudAccountJob(tenantId, accountId), new EnqueueOptions
        {
            CreatedBy = actor.Label,
            TenantId = tenantId,
            // One verification per account at a time; a second request waits for the first.
            ConcurrencyKey = $"cloud-account:{accountId}",
        }, cancellationToken);
}
