using Cogrion.Portal.Infrastructure.Configuration;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>The platform's offboarding settings (section <c>Offboarding</c>).</summary>
public sealed class OffboardingOptions
{
    public const string Section = "Offboarding";

    /// <summary>How long an offboarded tenant's metadata stays (for the tenant to come back with questions) before the purge.</summary>
    public TimeSpan PurgeRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How long the uninstall waits for an online agent's answer before listing it for removal by hand.</summary>
    public TimeSpan AgentUninstallWithin { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// When a waiting step (apps being removed, a destroy run, an uninstall) looks again if nothing woke it first: the change it waits for
    /// wakes it at once (<see cref="StepWakeups"/>), so this is the fallback for a missed notification and the pace of the uninstall's
    /// timeout.
    /// </summary>
    public TimeSpan WaitInterval { get; set; } = TimeSpan.FromSeconds(30);
}

public sealed class OffboardingOptionsValidator : IValidateOptions<OffboardingOptions>
{
    public ValidateOptionsResult Validate(string? name, OffboardingOptions options)
    {
        var errors = new List<string>();
        if (options.PurgeRetention < TimeSpan.Zero) errors.Add("Offboarding:PurgeRetention must not be negative.");
        if (options.AgentUninstallWithin <= TimeSpan.Zero) errors.Add("Offboarding:AgentUninstallWithin must be positive.");
        if (options.WaitInterval <= TimeSpan.Zero || options.WaitInterval > TimeSpan.FromMinutes(5))
            errors.Add("Offboarding:WaitInterval must be between 0 and 5 minutes.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
