using Cogrion.Jobs;
using Cogrion.Portal.Infrastructure.Audit;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>How the tenant removes Cogrion's access to one cloud account: the exact role, as CLI commands and as OpenTofu.</summary>
public sealed record RoleRemoval(string Account, string Provider, string RoleName, string Cli, string OpenTofu)
{
    public override string ToString() =>
        $"Cloud account {Account} ({Provider}): delete the role {RoleName} that Cogrion assumes.\nWith the CLI:\n{Cli}\nWith OpenTofu:\n{OpenTofu}";

    /// <summary>The role's name is the last segment of its ARN (AWS <c>arn:aws:iam::1:role/path/name</c>, AliCloud
    /// <c>acs:ram::1:role/name</c>).</summary>
    public static string RoleNameOf(string roleArn, string fallback) =>
        string.IsNullOrWhiteSpace(roleArn) || !roleArn.Contains('/') ? fallback : roleArn[(roleArn.LastIndexOf('/') + 1)..];

    public static RoleRemoval For(PlannedAccount account, string suggestedRoleName = "cogrion-provisioner")
    {
        var role = RoleNameOf(account.RoleArn, suggestedRoleName);
        return account.Provider switch
        {
            "aws" => new RoleRemoval(account.Name, "AWS", role,
                $"""
                  aws iam delete-role-policy --role-name {role} --policy-name cogrion-provisioning
                  aws iam list-attached-role-policies --role-name {role}   # detach each: aws iam detach-role-policy --role-name {role} --policy-arn <arn>
                  aws iam delete-role --role-name {role}
                """,
                """
                  # The role was made from the snippet Cogrion gave when the account was connected. Remove the blocks
                  #   resource "aws_iam_role" "cogrion" and resource "aws_iam_role_policy" "cogrion_provisioning"
                  # (and output "cogrion_role_arn") from your configuration, then run `tofu apply`; or destroy just them:
                  tofu destroy -target=aws_iam_role_policy.cogrion_provisioning -target=aws_iam_role.cogrion
                """),
            "alicloud" => new RoleRemoval(account.Name, "AliCloud", role,
                $"""
                  aliyun ram DetachPolicyFromRole --PolicyType Custom --PolicyName cogrion-provisioning --RoleName {role}
                  aliyun ram DeleteRole --RoleName {role}
                  aliyun ram DeletePolicy --PolicyName cogrion-provisioning
                """,
                """
                  # Remove alicloud_ram_role.cogrion, alicloud_ram_policy.cogrion_provisioning and
                  # alicloud_ram_role_policy_attachment.cogrion_provisioning from your configuration and run `tofu apply`; or:
                  tofu destroy -target=alicloud_ram_role_policy_attachment.cogrion_provisioning -target=alicloud_ram_policy.cogrion_provisioning -target=alicloud_ram_role.cogrion
                """),
            _ => new RoleRemoval(account.Name, "sandbox (simulated)", role,
                $"  (simulated) the sandbox cloud's role {role} for account {account.AccountRef}: nothing to delete outside the Portal",
                "  (simulated) no OpenTofu configuration holds a sandbox role"),
        };
    }
}

/// <summary>
/// Step 5: Cogrion keeps no key, only the right to assume a role in each account; that role is the tenant's to delete. The step lists,
/// per cloud account, the exact role and how to delete it. Nothing to undo: running it again lists the same.
/// </summary>
public sealed class CloudAccessStep : IOffboardingStep
{
    public OffboardingStep Step => OffboardingStep.CloudAccess;

    public Task<StepOutcome> RunAsync(OffboardingRecord offboarding, OffboardingPlan plan, Actor actor, JobContext context)
    {
        var removals = plan.Accounts.Select(a => RoleRemoval.For(a).ToString()).ToList();
        var done = new List<string>
        {
            plan.Accounts.Count == 0 ? "No cloud account was connected." :
                $"Cogrion holds no key to your {plan.Accounts.Count} cloud account(s); deleting the role in each ends its access for good.",
        };
        return Task.FromResult(StepOutcome.Finished(done, removals));
    }
}
