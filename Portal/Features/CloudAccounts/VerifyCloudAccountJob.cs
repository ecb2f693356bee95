using Cogrion.Jobs;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.CloudAccounts;

/// <summary>Assume the account's role and read who we are. Arguments are ids only: nothing secret.</summary>
public sealed record VerifyCloudAccountJob(Guid TenantId, Guid AccountId) : IJobArguments
{
    public static string Kind => "cloud-accounts.verify";

    // A wrong trust policy is not fixed by retrying: one retry for a passing network problem, no more.
    public static JobPolicy Policy => new(2, TimeSpan.FromSeconds(15), TimeSpan.FromMinutes(1));
}

public sealed class VerifyCloudAccountHandler(CloudAccountStore store, CloudAccountVerifier verifier, CloudAccountCommands commands)
    : IJobHandler<VerifyCloudAccountJob>
{
    public async Task RunAsync(VerifyCloudAccountJob arguments, JobContext context)
    {
        var account = await store.FindAsync(arguments.TenantId, arguments.AccountId, context.CancellationToken);
        if (account is null)
        {
            await context.AppendLogAsync("The cloud account no longer exists; nothing to verify.");
            return;
        }
        await context.AppendLogAsync($"Verifying {account.Provider.ToText()} account {account.AccountRef} ({account.Name}).");
        var verdict = await verifier.VerifyAsync(account, new JobRunLog(context), context.CancellationToken);
        await context.AppendLogAsync(verdict.Verified ? $"Verified: the Portal is {verdict.Identity}." : $"Not verified: {verdict.Reason}");
        await commands.RecordVerificationAsync(account, verdict, context.CancellationToken);
    }
}

/// <summary>
/// Proves that the Portal can assume an account's role: a tiny OpenTofu run (terraform/&lt;provider&gt;/verify)
/// that reads the caller identity through the role, with the account's external ID, and checks the
/// account it landed in. For AliCloud the runner itself assumes the role before starting tofu
/// (docs/adr/0052), so this proves exactly the path every workspace run takes. The sandbox is simulated: it succeeds, unless the account's name
/// starts with
/// "fail-", so the failure path can be tried locally.
/// </summary>
public sealed class CloudAccountVerifier(
    TofuRunner runner,
    IOptions<OpenTofuOptions> tofuOptions,
    IOptions<ProvisioningOptions> provisioningOptions,
    IOptions<CloudAccountsOptions> accountOptions,
    ILogger<CloudAccountVerifier> logger)
{
    public const string SimulatedFailurePrefix = "fail-";

    public async Task<VerificationVerdict> VerifyAsync(CloudAccount account, IRunLog log, CancellationToken cancellationToken)
    {
        if (account.Provider == CloudProvider.Sandbox)
        {
            if (SandboxRoles.IsDeleted(provisioningOptions.Value.SandboxStateRoot, account.AccountRef))
                return VerificationVerdict.Failure("The sandbox refused to assume the role: AccessDenied, the role does not exist (deleted by the " +
                    "tenant).");
            return account.Name.StartsWith(SimulatedFailurePrefix, StringComparison.OrdinalIgnoreCase)
                ? VerificationVerdict.Failure("The sandbox refused to assume the role (a simulated failure: the account's name starts with 'fail-').")
                : VerificationVerdict.Success($"sandbox:{account.AccountRef}:assumed-role/cogrion-provisioner");
        }
        if (string.IsNullOrEmpty(account.RoleArn))
            return VerificationVerdict.Failure("No role ARN yet: create the role with the trust policy shown, then enter its ARN.");

        var provider = account.Provider == CloudProvider.Aws ? TofuProvider.Aws : TofuProvider.AliCloud;
        var workingDirectory = Path.Combine(tofuOptions.Value.WorkRoot, $"verify-{account.Id:N}-{Guid.NewGuid():N}");
        try
        {
            var result = await runner.RunAsync(new TofuRunRequest
            {
                WorkingDirectory = workingDirectory,
                ModuleSource = Path.Combine(provisioningOptions.Value.ModulesRoot, account.Provider.ToKey(), "verify"),
                Provider = provider,
                Region = CloudRegions.For(account.Provider)[0].Code,
                Role = new AssumedRole(account.RoleArn, account.ExternalId, $"cogrion-verify-{account.Id:N}"[..32]),
                Backend = new LocalBackend(Path.Combine(workingDirectory, "verify.tfstate")),
                Variables = [],
                Outputs = [new TofuOutputDeclaration("caller_arn"), new TofuOutputDeclaration("account_id")],
            }, log, cancellationToken);

            if (!result.Succeeded)
                return VerificationVerdict.Failure(Explain(result.Error ?? "The verification run failed.", account));
            var landedIn = result.Outputs?.Values.TryGetValue("account_id", out var id) == true ? id.GetString() : null;
            var identity = result.Outputs?.Values.TryGetValue("caller_arn", out var arn) == true ? arn.GetString() : null;
            return landedIn == account.AccountRef
                ? VerificationVerdict.Success(identity ?? account.RoleArn)
                : VerificationVerdict.Failure($"The role put the Portal in account {landedIn}, not in the connected account {account.AccountRef}.");
        }
        finally
        {
            TofuRunner.DeleteWorkingDirectory(workingDirectory, logger);
        }
    }

    /// <summary>
    /// The most common failure is a trust policy that does not match; say what to check. An AliCloud
    /// refusal comes from the runner's own AssumeRole (docs/adr/0052) and already says what to check,
    /// so it only gets the principal's name added.
    /// </summary>
    private string Explain(string error, CloudAccount account)
    {
        if (!error.Contains("AssumeRole", StringComparison.OrdinalIgnoreCase) && !error.Contains("NoPermission", StringComparison.OrdinalIgnoreCase))
            return error;
        if (error.Contains(account.ExternalId, StringComparison.Ordinal))
            return account.Provider == CloudProvider.AliCloud ? $"{error} The Cogrion principal is {accountOptions.Value.AliCloudPrincipal}." : error;
        var principal = account.Provider == CloudProvider.Aws ? accountOptions.Value.AwsPrincipalArn : accountOptions.Value.AliCloudPrincipal;
        return $"{error} Check that the role trusts {principal} and requires the external ID {account.ExternalId}.";
    }
}
