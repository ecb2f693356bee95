using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Infrastructure.Http;
using Cogrion.Portal.Infrastructure.Input;

namespace Cogrion.Portal.Features.CloudAccounts;

/// <summary>What a cloud account's fields must look like. Used by the form and the API alike.</summary>
public static partial class CloudAccountRules
{
    public const int MaxNameLength = 60;

    [GeneratedRegex(@"^\d{12}$")] private static partial Regex AwsAccountId();
    [GeneratedRegex(@"^\d{10,20}$")] private static partial Regex AliCloudUid();
    [GeneratedRegex(@"^arn:aws:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$")] private static partial Regex AwsRoleArn();
    [GeneratedRegex(@"^acs:ram::(\d{10,20}):role/[\w.@-]{1,64}$")] private static partial Regex AliCloudRoleArn();

    public static void CheckName(FieldErrors errors, string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) errors.Add("name", "Give the account a name, such as 'Production' or 'Data team (eu-west-1)'.");
        else if (InputText.DisplayNameProblem(name) is { } problem) errors.Add("name", problem);
        else if (InputText.NormalizeName(name).Length > MaxNameLength) errors.Add("name", $"Keep the name to {MaxNameLength} characters.");
    }

    public static void CheckAccountRef(FieldErrors errors, CloudProvider provider, string? accountRef)
    {
        switch (provider)
        {
            case CloudProvider.Aws when accountRef is null || !AwsAccountId().IsMatch(accountRef):
                errors.Add("accountRef", "An AWS account ID is 12 digits, e.g. 123456789012 (top right of the AWS console).");
                break;
            case CloudProvider.AliCloud when accountRef is null || !AliCloudUid().IsMatch(accountRef):
                errors.Add("accountRef", "An AliCloud account UID is the 16-digit number shown in the account centre.");
                break;
        }
    }

    /// <summary>The role must belong to the account that was connected: a role elsewhere would provision somewhere else.</summary>
    public static void CheckRoleArn(FieldErrors errors, CloudAccount account, string? roleArn)
    {
        var (pattern, example) = account.Provider switch
        {
            CloudProvider.Aws => (AwsRoleArn(), $"arn:aws:iam::{account.AccountRef}:role/cogrion-provisioner"),
            CloudProvider.AliCloud => (AliCloudRoleArn(), $"acs:ram::{account.AccountRef}:role/cogrion-provisioner"),
            _ => (null, ""),
        };
        if (pattern is null) return;
        var match = roleArn is null ? Match.Empty : pattern.Match(roleArn.Trim());
        if (!match.Success) errors.Add("roleArn", $"Enter the role's ARN, e.g. {example}.");
        else if (match.Groups[1].Value != account.AccountRef)
            errors.Add("roleArn", $"This role is in account {match.Groups[1].Value}, not in the connected account {account.AccountRef}.");
    }

    /// <summary>
    /// A new external ID: 160 random bits. Not a secret (it sits in the tenant's trust policy), but
    /// unguessable and unique per account, which is what stops another Cogrion tenant from naming
    /// this tenant's role as theirs (the confused-deputy problem).
    /// </summary>
    public static string NewExternalId() => "cogrion-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(20)).ToLowerInvariant();

    public static string NewSandboxRef() => "sandbox-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant();
}
