using System.Text.RegularExpressions;
using Cogrion.Portal.Infrastructure.Configuration;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.CloudAccounts;

/// <summary>Who Cogrion is in each cloud: the principal that tenants' roles trust.</summary>
public sealed partial class CloudAccountsOptions
{
    public const string Section = "CloudAccounts";

    /// <summary>The AWS principal the Portal runs as (an IAM role ARN); tenants' IAM roles trust it, with their external ID.</summary>
    public string AwsPrincipalArn { get; set; } = "";

    /// <summary>The AliCloud account (or RAM role) the Portal runs as; tenants' RAM roles trust it, with their external ID.</summary>
    public string AliCloudPrincipal { get; set; } = "";

    /// <summary>The name suggested for the role a tenant creates.</summary>
    public string SuggestedRoleName { get; set; } = "cogrion-provisioner";

    [GeneratedRegex(@"^arn:aws:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,128}$")]
    internal static partial Regex AwsPrincipalPattern();

    [GeneratedRegex(@"^acs:ram::\d{10,20}:(root|role/[\w.@-]{1,64})$")]
    internal static partial Regex AliCloudPrincipalPattern();
}

public sealed class CloudAccountsOptionsValidator : IValidateOptions<CloudAccountsOptions>
{
    public ValidateOptionsResult Validate(string? name, CloudAccountsOptions options)
    {
        var errors = new ValidationErrors(CloudAccountsOptions.Section);
        if (!CloudAccountsOptions.AwsPrincipalPattern().IsMatch(options.AwsPrincipalArn))
            errors.Add(nameof(options.AwsPrincipalArn),
                $"must be an IAM role or user ARN such as arn:aws:iam::111122223333:role/cogrion-portal; '{options.AwsPrincipalArn}' is not.");
        if (!CloudAccountsOptions.AliCloudPrincipalPattern().IsMatch(options.AliCloudPrincipal))
            errors.Add(nameof(options.AliCloudPrincipal),
                $"must be acs:ram::<account uid>:root or acs:ram::<account uid>:role/<name>; '{options.AliCloudPrincipal}' is not.");
        if (!Regex.IsMatch(options.SuggestedRoleName, @"^[\w+=,.@-]{1,64}$"))
            errors.Add(nameof(options.SuggestedRoleName), "must be a valid role name (letters, digits, +=,.@-_; at most 64).");
        return errors.ToResult();
    }
}
