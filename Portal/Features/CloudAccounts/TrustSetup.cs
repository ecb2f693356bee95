using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cogrion.Portal.Features.CloudAccounts;

/// <summary>What the tenant creates in their account so the Portal can assume a role there: the exact trust policy, and the same as an OpenTofu
/// snippet.</summary>
public sealed record TrustSetup(string RoleName, string TrustPolicyJson, string OpenTofuSnippet, string ConsoleHint);

/// <summary>
/// Builds the trust documents for a cloud account. The trust policy names Cogrion's principal and
/// requires this account's external ID; the snippet creates the role with it and attaches the
/// permissions the modules need (terraform/*/README.md lists them service by service).
/// </summary>
public static class TrustSetupBuilder
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static TrustSetup? For(CloudAccount account, CloudAccountsOptions options) => account.Provider switch
    {
        CloudProvider.Aws => Aws(account, options),
        CloudProvider.AliCloud => AliCloud(account, options),
        _ => null, // The sandbox is simulated: there is no role to create.
    };

    public static string AwsTrustPolicy(string principalArn, string externalId) => new JsonObject
    {
        ["Version"] = "2012-10-17",
        ["Statement"] = new JsonArray(new JsonObject
        {
            ["Sid"] = "CogrionProvisioning",
            ["Effect"] = "Allow",
            ["Principal"] = new JsonObject { ["AWS"] = principalArn },
            ["Action"] = "sts:AssumeRole",
            ["Condition"] = new JsonObject { ["StringEquals"] = new JsonObject { ["sts:ExternalId"] = externalId } },
        }),
    }.ToJsonString(Indented);

    public static string AliCloudTrustPolicy(string principal, string externalId) => new JsonObject
    {
        ["Version"] = "1",
        ["Statement"] = new JsonArray(new JsonObject
        {
            ["Effect"] = "Allow",
            ["Action"] = "sts:AssumeRole",
            ["Principal"] = new JsonObject { ["RAM"] = new JsonArray(principal) },
            ["Condition"] = new JsonObject { ["StringEquals"] = new JsonObject { ["sts:ExternalId"] = externalId } },
        }),
    }.ToJsonString(Indented);

    private static TrustSetup Aws(CloudAccount account, CloudAccountsOptions options)
    {
        var role = options.SuggestedRoleName;
        var snippet = $$"""
            # Creates the role Cogrion assumes in account {{account.AccountRef}} (apply it with your own credentials).
            # The external ID ties the role to this one Cogrion cloud account; Cogrion stores no keys.
            resource "aws_iam_role" "cogrion" {
              name                 = "{{role}}"
              description          = "Assumed by Cogrion to provision and operate your data platform"
              max_session_duration = 3600
              assume_role_policy = jsonencode({
                Version = "2012-10-17"
                Statement = [{
                  Sid       = "CogrionProvisioning"
                  Effect    = "Allow"
                  Principal = { AWS = "{{options.AwsPrincipalArn}}" }
                  Action    = "sts:AssumeRole"
                  Condition = { StringEquals = { "sts:ExternalId" = "{{account.ExternalId}}" } }
                }]
              })
            }

            # The services the workspace modules manage (terraform/aws/README.md lists the actions per service).
            # Tighten with resource ARNs and permission boundaries to your organisation's rules.
            resource "aws_iam_role_policy" "cogrion_provisioning" {
              name = "cogrion-provisioning"
              role = aws_iam_role.cogrion.id
              policy = jsonencode({
                Version = "2012-10-17"
                Statement = [
                  { Sid = "Network", Effect = "Allow", Action = ["ec2:*"], Resource = "*" },
                  { Sid = "Kubernetes", Effect = "Allow", Action = ["eks:*", "autoscaling:*", "elasticloadbalancing:Describe*"], Resource = "*" },
                  { Sid = "Database", Effect = "Allow", Action = ["rds:*"], Resource = "*" },
                  { Sid = "State", Effect = "Allow", Action = ["s3:*"], Resource = ["arn:aws:s3:::cogrion-*", "arn:aws:s3:::cogrion-*/*"] },
                  { Sid = "Keys", Effect = "Allow", Action = ["kms:*"], Resource = "*" },
                  { Sid = "Logs", Effect = "Allow", Action = ["logs:*"], Resource = "*" },
                  { Sid = "WorkloadRoles", Effect = "Allow", Action = ["iam:*Role*", "iam:*Policy*", "iam:*OpenIDConnectProvider*", "iam:*InstanceProfile*", "iam:PassRole"], Resource = "*" },
                  { Sid = "Identity", Effect = "Allow", Action = ["sts:GetCallerIdentity"], Resource = "*" }
                ]
              })
            }

            output "cogrion_role_arn" {
              value = aws_iam_role.cogrion.arn
            }
            """;
        return new TrustSetup(role, AwsTrustPolicy(options.AwsPrincipalArn, account.ExternalId), snippet,
            $"IAM console → Roles → Create role → Custom trust policy: paste the trust policy, name the role {role}, attach the permissions, then " +
                $"copy its ARN here.");
    }

    private static TrustSetup AliCloud(CloudAccount account, CloudAccountsOptions options)
    {
        var role = options.SuggestedRoleName;
        var trust = AliCloudTrustPolicy(options.AliCloudPrincipal, account.ExternalId);
        var snippet = $$"""
            # Creates the RAM role Cogrion assumes in account {{account.AccountRef}} (apply it with your own credentials).
            # The external ID ties the role to this one Cogrion cloud account; Cogrion stores no AccessKeys.
            resource "alicloud_ram_role" "cogrion" {
              role_name            = "{{role}}"
              description          = "Assumed by Cogrion to provision and operate your data platform"
              max_session_duration = 3600
              assume_role_policy_document = jsonencode({
                Version = "1"
                Statement = [{
                  Effect    = "Allow"
                  Action    = "sts:AssumeRole"
                  Principal = { RAM = ["{{options.AliCloudPrincipal}}"] }
                  Condition = { StringEquals = { "sts:ExternalId" = "{{account.ExternalId}}" } }
                }]
              })
            }

            # The services the workspace modules manage (terraform/alicloud/README.md lists them).
            resource "alicloud_ram_policy" "cogrion_provisioning" {
              policy_name = "cogrion-provisioning"
              policy_document = jsonencode({
                Version = "1"
                Statement = [{
                  Effect   = "Allow"
                  Action   = ["vpc:*", "ecs:*", "cs:*", "rds:*", "polardb:*", "oss:*", "kms:*", "ots:*", "ram:*Role*", "ram:*Policy*", "ram:PassRole", "slb:*", "nlb:*", "ess:*", "sts:GetCallerIdentity"]
                  Resource = ["*"]
                }]
              })
            }

            resource "alicloud_ram_role_policy_attachment" "cogrion_provisioning" {
              role_name   = alicloud_ram_role.cogrion.role_name
              policy_name = alicloud_ram_policy.cogrion_provisioning.policy_name
              policy_type = "Custom"
            }

            output "cogrion_role_arn" {
              value = alicloud_ram_role.cogrion.arn
            }
            """;
        return new TrustSetup(role, trust, snippet,
            $"RAM console → Roles → Create role → trusted entity: Alibaba Cloud account; then edit its trust policy to the one above, attach the " +
                $"permissions, and copy its ARN here.");
    }
}
