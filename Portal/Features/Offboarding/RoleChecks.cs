using Cogrion.Jobs;
using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>Checks, once the tenant deleted the role, that Cogrion can no longer assume it. Ids only.</summary>
public sealed record RoleCheckJob(Guid OffboardingId, Guid AccountId) : IJobArguments
{
    public static string Kind => "offboarding.role-check";

    public static JobPolicy Policy => new(1, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(1));
}

/// <summary>
/// The final verification of step 5: the account's ordinary verification run (assume the role with the external ID and read who we are,
/// <see cref="CloudAccountVerifier"/>), whose failure is what the tenant wants to see. In the sandbox the tenant's deletion of the role is
/// simulated (<see cref="SandboxRoles"/>). Offered until the purge (the account's row goes with it).
/// </summary>
public sealed class RoleChecks(
    NpgsqlDataSource dataSource,
    JobQueue queue,
    AuditLog audit,
    CloudAccountStore accounts,
    CloudAccountVerifier verifier,
    IOptions<ProvisioningOptions> provisioning,
    TimeProvider time)
{
    /// <summary>Queues the check; not found unless the offboarding is visible to the caller and covers the account and is not purged.</summary>
    public async Task<CommandResult<long>> RequestAsync(OffboardingRecord offboarding, Guid accountId, Actor actor,
        CancellationToken cancellationToken)
    {
        if (Account(offboarding, accountId) is not { } account) return CommandResult<long>.NotFound();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var job = await queue.EnqueueAsync(transaction, new RoleCheckJob(offboarding.Id, accountId), new EnqueueOptions
        {
            CreatedBy = $"user:{actor.Name ?? actor.Id}",
            TenantId = account.TenantId,
        }, cancellationToken);
        await audit.RecordAsync(new AuditEntry(actor, "offboarding.role_check_requested", account.TenantId, "cloud_account", accountId.ToString(),
            new { offboarding = offboarding.Id, account = account.Name }), transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return CommandResult<long>.Ok(job);
    }

    /// <summary>The tenant deletes the sandbox account's role, as they would delete a real one in their cloud (sandbox accounts only).</summary>
    public async Task<CommandResult<bool>> DeleteSandboxRoleAsync(OffboardingRecord offboarding, Guid accountId, Actor actor,
        CancellationToken cancellationToken)
    {
        if (Account(offboarding, accountId) is not { Provider: "sandbox" } account) return CommandResult<bool>.NotFound();
        await SandboxRoles.DeleteAsync(provisioning.Value.SandboxStateRoot, account.AccountRef, cancellationToken);
        await audit.RecordAsync(new AuditEntry(actor, "offboarding.sandbox_role_deleted", account.TenantId, "cloud_account", accountId.ToString(),
            new { offboarding = offboarding.Id, account = account.Name }), cancellationToken);
        return CommandResult<bool>.Ok(true);
    }

    public async Task RunAsync(RoleCheckJob arguments, JobContext context)
    {
        var cancellationToken = context.CancellationToken;
        var offboarding = await OffboardingStore.FindAsync(arguments.OffboardingId, dataSource, cancellationToken);
        if (offboarding is null || Account(offboarding, arguments.AccountId) is not { } planned
            || await accounts.FindAsync(planned.TenantId, planned.Id, cancellationToken) is not { } account)
        {
            await context.AppendLogAsync("The offboarding or its cloud account is gone (purged): nothing to check.");
            return;
        }
        var verdict = await verifier.VerifyAsync(account, new JobRunLog(context), cancellationToken);
        var check = new RoleCheck(time.GetUtcNow(), verdict.Verified, verdict.Verified
            ? $"Cogrion can still assume the role ({verdict.Identity}): delete it as shown, then check again."
            : $"Cogrion can no longer assume the role: {verdict.Reason}");
        await context.AppendLogAsync(check.Message);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "update offboardings set role_checks = jsonb_set(role_checks, array[@account], @check::jsonb) where id = @id",
            new { id = offboarding.Id, account = account.Id.ToString(), check = OffboardingStore.ToJson(check) }, transaction,
            cancellationToken: cancellationToken));
        await audit.RecordAsync(new AuditEntry(OffboardingJobs.ActorOf(offboarding), "offboarding.role_checked", account.TenantId, "cloud_account",
            account.Id.ToString(), new { assumable = verdict.Verified, message = check.Message }), transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static PlannedAccount? Account(OffboardingRecord offboarding, Guid accountId) =>
        offboarding.Status is OffboardingStatus.Purged ? null : offboarding.Plan?.Accounts.FirstOrDefault(a => a.Id == accountId);
}

public sealed class RoleCheckHandler(RoleChecks checks) : IJobHandler<RoleCheckJob>
{
    public Task RunAsync(RoleCheckJob arguments, JobContext context) => checks.RunAsync(arguments, context);
}
