using Cogrion.Portal.Infrastructure.Configuration;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Tenants;

/// <summary>Settings of tenants and their invitations.</summary>
public sealed class TenantOptions
{
    public const string Section = "Tenants";

    /// <summary>How long an invitation can be accepted (by signing in) after it was sent or last resent.</summary>
    public TimeSpan InvitationLifetime { get; set; } = TimeSpan.FromDays(7);
}

public sealed class TenantOptionsValidator : IValidateOptions<TenantOptions>
{
    public ValidateOptionsResult Validate(string? name, TenantOptions options)
    {
        var errors = new ValidationErrors(TenantOptions.Section);
        if (options.InvitationLifetime < TimeSpan.FromMinutes(5) || options.InvitationLifetime > TimeSpan.FromDays(90))
            errors.Add(nameof(options.InvitationLifetime), $"must be between 00:05:00 and 90.00:00:00; '{options.InvitationLifetime}' is not.");
        return errors.ToResult();
    }
}
