using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Workspaces.KubernetesVersions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// The Kubernetes versions the tests ask for, from the calendars the Portal ships: the newest on offer
/// today (what a person would pick), or a Portal whose calendar clock is pinned to a day (the rest of the
/// Portal keeps the real clock: leases and schedules must not stand still).
/// </summary>
public static class KubernetesTestVersions
{
    private static readonly KubernetesCalendars Calendars = KubernetesCalendars.Load(Path.Combine(AppContext.BaseDirectory, "KubernetesVersions"));

    /// <summary>The version the wizard would choose today on <paramref name="provider"/>.</summary>
    public static string Newest(CloudProvider provider = CloudProvider.Sandbox) =>
        new KubernetesVersionPolicy(Calendars, TimeProvider.System, Options.Create(new KubernetesVersionsOptions())).DefaultFor(provider)
        ?? throw new InvalidOperationException(
            "The Kubernetes calendars offer no version today: update Portal/Features/Workspaces/KubernetesVersions (docs/workspaces.md).");

    /// <summary>Test services that make the Portal read the calendars as on <paramref name="day"/> (noon UTC).</summary>
    public static Action<IServiceCollection> On(DateOnly day) => services => services.AddSingleton(provider => new KubernetesVersionPolicy(
        provider.GetRequiredService<KubernetesCalendars>(),
        new FakeTimeProvider(new DateTimeOffset(day.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero)),
        provider.GetRequiredService<IOptions<KubernetesVersionsOptions>>()));
}
