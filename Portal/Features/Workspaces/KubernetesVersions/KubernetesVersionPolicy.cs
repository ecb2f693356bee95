using Cogrion.Portal.Features.CloudAccounts;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Workspaces.KubernetesVersions;

/// <summary>Where a workspace's Kubernetes version stands on its provider's calendar today.</summary>
public enum KubernetesSupport
{
    /// <summary>In standard support for longer than the warning period.</summary>
    Standard,
    /// <summary>In standard support, ending within the warning period.</summary>
    EndingSoon,
    /// <summary>Past standard support, in the provider's (paid) extended support.</summary>
    Extended,
    /// <summary>Past every support the provider publishes: the provider may upgrade the cluster itself.</summary>
    Ended,
    /// <summary>Not in the provider's calendar at all.</summary>
    Unknown,
}

/// <summary>A workspace version's standing, and the one upgrade step the Portal offers from it.</summary>
/// <param name="DaysLeft">Days until the end of standard support (1 on its last day, 0 or less once it ended); null when unknown.</param>
/// <param name="UpgradeTo">The provider's next minor version after this one, once released: upgrades go one minor at a time.</param>
public sealed record KubernetesVersionStanding(
    string Version, string Platform, KubernetesSupport Support, KubernetesRelease? Release, int? DaysLeft, KubernetesMinor? UpgradeTo)
{
    /// <summary>Shown as a warning on the workspace page and list.</summary>
    public bool NeedsAttention => Support is not KubernetesSupport.Standard;

    /// <summary>The warning's words, for people.</summary>
    public string Summary => (Support, Release) switch
    {
        (KubernetesSupport.Standard, { } r) => $"Kubernetes {Version} is in standard support on {Platform} until {r.StandardSupportEnds:yyyy-MM-dd}.",
        (KubernetesSupport.EndingSoon, { } r)
            => $"Standard support for Kubernetes {Version} on {Platform} ends on {r.StandardSupportEnds:yyyy-MM-dd}, in {Days(DaysLeft!.Value)}.",
        (KubernetesSupport.Extended, { } r) => $"Kubernetes {Version} left standard support on {Platform} on {r.StandardSupportEnds:yyyy-MM-dd}; "
            + $"it is in extended support (at extra cost) until {r.EndOfExtendedSupport!.Value.First:yyyy-MM-dd}.",
        (KubernetesSupport.Ended, { } r)
            => $"Kubernetes {Version} is past every support {Platform} publishes (standard support ended {r.StandardSupportEnds:yyyy-MM-dd}): "
            + "the provider may upgrade the cluster on its own.",
        _ => $"Kubernetes {Version} is not in {Platform}'s calendar.",
    };

    private static string Days(int days) => days == 1 ? "1 day" : $"{days} days";
}

/// <summary>
/// Which Kubernetes versions the Portal offers and accepts, from the providers' calendars on today's date:
/// a new workspace gets a version in standard support on its provider (the newest by default), and a
/// workspace nearing the end of its version's standard support is warned and offered the next minor
/// version. The sandbox simulates the AWS stack (EKS), so it follows the EKS calendar.
/// </summary>
public sealed class KubernetesVersionPolicy(KubernetesCalendars calendars, TimeProvider time, IOptions<KubernetesVersionsOptions> options)
{
    /// <summary>Today in UTC, as the calendars count days.</summary>
    public DateOnly Today => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);

    public KubernetesCalendar CalendarFor(CloudProvider provider) => provider == CloudProvider.AliCloud ? calendars.Ack : calendars.Eks;

    /// <summary>Whose calendar a provider follows, as the pages and errors name it.</summary>
    public string PlatformOf(CloudProvider provider) => provider == CloudProvider.Sandbox
        ? $"the sandbox (which follows {calendars.Eks.Platform})"
        : CalendarFor(provider).Platform;

    /// <summary>The versions in standard support on the provider today, newest first.</summary>
    public IReadOnlyList<string> Offered(CloudProvider provider)
    {
        var today = Today;
        return CalendarFor(provider).Releases.Where(r => r.IsInStandardSupportOn(today)).Select(r => r.Version.ToString()).ToList();
    }

    /// <summary>What the wizard selects: the newest version in standard support, or null when the calendar offers none.</summary>
    public string? DefaultFor(CloudProvider provider) => Offered(provider).FirstOrDefault();

    /// <summary>Null when a new workspace may use <paramref name="version"/>; otherwise why not, naming the versions it may use.</summary>
    public string? Check(CloudProvider provider, string? version)
    {
        var offered = Offered(provider);
        var choose = offered.Count == 0
            ? $"No Kubernetes version is in standard support on {PlatformOf(provider)} in the Portal's calendar: the calendar needs updating " +
                $"(docs/workspaces.md)."
            : $"Choose one of: {string.Join(", ", offered)}.";
        if (string.IsNullOrWhiteSpace(version)) return $"Choose a Kubernetes version. {choose}";
        if (!KubernetesMinor.TryParse(version, out var minor)) return $"'{version}' is not a Kubernetes minor version such as 1.35. {choose}";
        if (offered.Contains(minor.ToString())) return null;
        var release = CalendarFor(provider).Find(minor);
        return release switch
        {
            null => $"Kubernetes {minor} is not offered on {PlatformOf(provider)}. {choose}",
            _ when !release.IsReleasedBy(Today) => $"Kubernetes {minor} is not released on {PlatformOf(provider)} yet. {choose}",
            _ => $"Kubernetes {minor} left standard support on {PlatformOf(provider)} on {release.StandardSupportEnds:yyyy-MM-dd}. {choose}",
        };
    }

    /// <summary>Where an existing workspace's version stands today, and its next upgrade step.</summary>
    public KubernetesVersionStanding StandingOf(CloudProvider provider, string version)
    {
        var calendar = CalendarFor(provider);
        var platform = PlatformOf(provider);
        if (!KubernetesMinor.TryParse(version, out var minor))
            return new KubernetesVersionStanding(version, platform, KubernetesSupport.Unknown, null, null, null);
        if (calendar.Find(minor) is not { } release)
            return new KubernetesVersionStanding(version, platform, KubernetesSupport.Unknown, null, null, NextAfter(calendar, minor));
        var today = Today;
        var daysLeft = release.StandardSupportEnds.DayNumber - today.DayNumber;
        var support = daysLeft > options.Value.WarnDaysBeforeEnd ? KubernetesSupport.Standard
            : daysLeft > 0 ? KubernetesSupport.EndingSoon
            : release.EndOfExtendedSupport is { } extended && today < extended.First ? KubernetesSupport.Extended
            : KubernetesSupport.Ended;
        return new KubernetesVersionStanding(minor.ToString(), platform, support, release, daysLeft, NextAfter(calendar, minor));
    }

    /// <summary>
    /// The one upgrade step from <paramref name="version"/>: the provider's next minor version, once released
    /// (EKS upgrades a control plane one minor version at a time; ACK's calendar skips the minors it never
    /// offered, so its next is the next it has). Null when the provider has released nothing newer.
    /// </summary>
    public KubernetesMinor? UpgradeTarget(CloudProvider provider, string version) =>
        KubernetesMinor.TryParse(version, out var minor) ? NextAfter(CalendarFor(provider), minor) : null;

    private KubernetesMinor? NextAfter(KubernetesCalendar calendar, KubernetesMinor version)
    {
        var today = Today;
        var next = calendar.Releases.Where(r => r.Version > version).OrderBy(r => r.Version).FirstOrDefault();
        return next is not null && next.IsReleasedBy(today) ? next.Version : null;
    }
}
