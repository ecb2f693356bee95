using Cogrion.Portal.Infrastructure.Configuration;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Workspaces.KubernetesVersions;

/// <summary>Where the providers' Kubernetes calendars are read from, and when a workspace is warned.</summary>
public sealed class KubernetesVersionsOptions
{
    public const string Section = "KubernetesVersions";

    /// <summary>
    /// The directory holding <c>eks.json</c> and <c>ack.json</c>. By default the copies that ship with the
    /// Portal; an operator may point it at newer copies (a mounted ConfigMap) without a new release (ADR 0115).
    /// </summary>
    public string CalendarDirectory { get; set; } = Path.Combine(AppContext.BaseDirectory, "KubernetesVersions");

    /// <summary>
    /// A workspace whose version loses standard support within this many days is warned, with an upgrade
    /// on offer. 90 days: EKS announces an end at least 60 days ahead, and a careful team upgrades one
    /// minor version at a time, testing its apps in between.
    /// </summary>
    public int WarnDaysBeforeEnd { get; set; } = 90;
}

public sealed class KubernetesVersionsOptionsValidator : IValidateOptions<KubernetesVersionsOptions>
{
    public ValidateOptionsResult Validate(string? name, KubernetesVersionsOptions options)
    {
        var errors = new ValidationErrors(KubernetesVersionsOptions.Section);
        errors.RequireText(nameof(options.CalendarDirectory), options.CalendarDirectory);
        if (options.WarnDaysBeforeEnd is < 0 or > 730)
            errors.Add(nameof(options.WarnDaysBeforeEnd), "must be from 0 to 730 days.");
        if (!string.IsNullOrWhiteSpace(options.CalendarDirectory))
        {
            try
            {
                KubernetesCalendars.Load(options.CalendarDirectory);
            }
            catch (Exception ex) when (ex is KubernetesCalendarException or IOException or UnauthorizedAccessException)
            {
                errors.Add(nameof(options.CalendarDirectory), ex.Message);
            }
        }
        return errors.ToResult();
    }
}
