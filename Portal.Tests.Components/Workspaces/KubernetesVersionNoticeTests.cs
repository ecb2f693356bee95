using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Workspaces.KubernetesVersions;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Tests.Components.Workspaces;

/// <summary>The warning a workspace page shows near or past the end of standard support, and its one upgrade step.</summary>
public sealed class KubernetesVersionNoticeTests : PortalTestContext
{
    private static readonly KubernetesCalendars Calendars = KubernetesCalendars.Load(Path.Combine(AppContext.BaseDirectory, "KubernetesVersions"));

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static KubernetesVersionStanding StandingOn(int year, int month, int day, string version) =>
        new KubernetesVersionPolicy(Calendars, new FixedClock(new DateTimeOffset(year, month, day, 12, 0, 0, TimeSpan.Zero)),
            Options.Create(new KubernetesVersionsOptions())).StandingOf(CloudProvider.Aws, version);

    [Fact]
    public void Near_the_end_it_warns_with_the_date_and_offers_the_next_minor_version_to_operators_only()
    {
        var upgrades = 0;
        var standing = StandingOn(2026, 11, 1, "1.34");
        var forOperator = Render<KubernetesVersionNotice>(p => p.Add(c => c.Standing, standing).Add(c => c.CanUpgrade, true)
            .Add(c => c.Upgrade, () => upgrades++));
        var forViewer = Render<KubernetesVersionNotice>(p => p.Add(c => c.Standing, standing).Add(c => c.CanUpgrade, false));

        Assert.Contains("Standard support for Kubernetes 1.34 on Amazon EKS ends on 2026-12-02, in 31 days.", forOperator.Markup);
        Assert.Contains("next is 1.35", forOperator.Markup);
        forOperator.FindAll("button").Single(b => b.TextContent.Contains("Upgrade Kubernetes to 1.35", StringComparison.Ordinal)).Click();
        Assert.Equal(1, upgrades);
        Assert.Empty(forViewer.FindAll("button"));
    }

    [Fact]
    public void Without_a_newer_release_it_says_so_and_offers_nothing()
    {
        var cut = Render<KubernetesVersionNotice>(p => p.Add(c => c.Standing, StandingOn(2027, 3, 1, "1.35")).Add(c => c.CanUpgrade, true));

        Assert.Contains("Amazon EKS has released no newer version yet.", cut.Markup);
        Assert.Empty(cut.FindAll("button"));
    }
}
