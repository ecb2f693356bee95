using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Workspaces.KubernetesVersions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Cogrion.Portal.Tests.Unit.Workspaces;

/// <summary>
/// The providers' calendars as shipped (eks.json, ack.json next to the Portal) and the rules read from them,
/// on chosen days around their boundaries: a release day, the last day of standard support and the day after,
/// the start of the warning period.
/// </summary>
public sealed class KubernetesVersionPolicyTests
{
    private static readonly string ShippedDirectory = Path.Combine(AppContext.BaseDirectory, "KubernetesVersions");
    private static readonly KubernetesCalendars Shipped = KubernetesCalendars.Load(ShippedDirectory);

    private static KubernetesVersionPolicy On(string day, int warnDays = 90) => new(Shipped,
        new FakeTimeProvider(new DateTimeOffset(DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture)
            .ToDateTime(new TimeOnly(23, 59)), TimeSpan.Zero)),
        Options.Create(new KubernetesVersionsOptions { WarnDaysBeforeEnd = warnDays }));

    [Fact]
    public void The_shipped_calendars_load_and_say_where_their_dates_come_from()
    {
        Assert.Equal("Amazon EKS", Shipped.Eks.Platform);
        Assert.Equal("Alibaba Cloud ACK", Shipped.Ack.Platform);
        Assert.All([Shipped.Eks, Shipped.Ack], calendar
            => Assert.Contains(calendar.Sources, s => s.StartsWith("https://", StringComparison.Ordinal)));
        Assert.Contains(Shipped.Eks.Sources, s => s.Contains("docs.aws.amazon.com/eks", StringComparison.Ordinal));
        Assert.Contains(Shipped.Ack.Sources, s => s.Contains("alibabacloud.com/help", StringComparison.Ordinal));
        Assert.Equal(new DateOnly(2026, 12, 2), Shipped.Eks.Find(KubernetesMinor.Parse("1.34"))!.StandardSupportEnds);
    }

    /// <summary>
    /// The tripwire that keeps the data current: it fails in CI before the wizard would run out of versions
    /// to offer, naming the file to update (ADR 0115). Read on the real date, on purpose.
    /// </summary>
    [Theory]
    [InlineData(CloudProvider.Aws)]
    [InlineData(CloudProvider.AliCloud)]
    public void The_shipped_calendars_still_offer_a_version_sixty_days_from_now(CloudProvider provider)
    {
        var inSixtyDays = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(60);
        var calendar = provider == CloudProvider.AliCloud ? Shipped.Ack : Shipped.Eks;
        Assert.True(calendar.Releases.Any(r => r.IsInStandardSupportOn(inSixtyDays)),
            $"{calendar.Platform}: no version in {ShippedDirectory} is in standard support on {inSixtyDays:yyyy-MM-dd}. "
            + $"Add the newer versions from {string.Join(" or ", calendar.Sources)} to Portal/Features/Workspaces/KubernetesVersions " +
                $"(docs/workspaces.md).");
    }

    [Fact]
    public void The_last_day_of_standard_support_still_offers_the_version_and_the_end_date_does_not()
    {
        Assert.Equal(["1.35", "1.34"], On("2026-12-01").Offered(CloudProvider.Aws));
        Assert.Equal(["1.35"], On("2026-12-02").Offered(CloudProvider.Aws));
    }

    [Fact]
    public void A_version_is_offered_from_its_release_day_and_the_newest_is_the_default()
    {
        Assert.Equal("1.34", On("2026-01-26").DefaultFor(CloudProvider.Aws));
        Assert.Equal(["1.35", "1.34", "1.33", "1.32"], On("2026-01-27").Offered(CloudProvider.Aws));
        Assert.Equal("1.35", On("2026-01-27").DefaultFor(CloudProvider.Aws));
    }

    [Fact]
    public void A_release_published_by_month_only_counts_from_the_months_last_day()
    {
        Assert.DoesNotContain("1.36", On("2026-05-30").Offered(CloudProvider.AliCloud));
        Assert.Equal("1.36", On("2026-05-31").DefaultFor(CloudProvider.AliCloud));
    }

    [Fact]
    public void The_sandbox_follows_the_EKS_calendar_and_says_so()
    {
        var policy = On("2026-12-06");
        Assert.Equal(policy.Offered(CloudProvider.Aws), policy.Offered(CloudProvider.Sandbox));
        Assert.Equal("the sandbox (which follows Amazon EKS)", policy.PlatformOf(CloudProvider.Sandbox));
        Assert.Equal(["1.36", "1.35"], policy.Offered(CloudProvider.AliCloud));
    }

    [Fact]
    public void A_version_past_standard_support_is_refused_naming_when_it_ended_and_what_to_choose()
    {
        var policy = On("2026-12-06");
        Assert.Null(policy.Check(CloudProvider.Aws, "1.35"));
        Assert.Equal("Kubernetes 1.32 left standard support on Amazon EKS on 2026-03-23. Choose one of: 1.35.",
            policy.Check(CloudProvider.Aws, "1.32"));
        Assert.Equal("Kubernetes 1.99 is not offered on Alibaba Cloud ACK. Choose one of: 1.36, 1.35.", policy.Check(CloudProvider.AliCloud, "1.99"));
        Assert.StartsWith("'latest' is not a Kubernetes minor version", policy.Check(CloudProvider.Aws, "latest"));
        Assert.StartsWith("Choose a Kubernetes version.", policy.Check(CloudProvider.Aws, null));
        Assert.Contains("not released on Alibaba Cloud ACK yet", On("2026-04-01").Check(CloudProvider.AliCloud, "1.36"));
    }

    [Theory]
    [InlineData("2026-09-02", KubernetesSupport.Standard, 91)]
    [InlineData("2026-09-03", KubernetesSupport.EndingSoon, 90)]
    [InlineData("2026-12-01", KubernetesSupport.EndingSoon, 1)]
    [InlineData("2026-12-02", KubernetesSupport.Extended, 0)]
    [InlineData("2027-12-01", KubernetesSupport.Extended, -364)]
    [InlineData("2027-12-02", KubernetesSupport.Ended, -365)]
    public void A_workspace_is_warned_from_ninety_days_before_the_end_of_standard_support(string day, KubernetesSupport support, int daysLeft)
    {
        var standing = On(day).StandingOf(CloudProvider.Aws, "1.34");
        Assert.Equal(support, standing.Support);
        Assert.Equal(daysLeft, standing.DaysLeft);
        Assert.Equal(support != KubernetesSupport.Standard, standing.NeedsAttention);
        Assert.Equal(KubernetesMinor.Parse("1.35"), standing.UpgradeTo);
    }

    [Fact]
    public void The_warning_says_when_and_in_how_many_days()
    {
        Assert.Equal("Standard support for Kubernetes 1.34 on Amazon EKS ends on 2026-12-02, in 1 day.",
            On("2026-12-01").StandingOf(CloudProvider.Aws, "1.34").Summary);
        Assert.Contains("it is in extended support (at extra cost) until 2027-12-02", On("2026-12-06").StandingOf(CloudProvider.Aws, "1.34").Summary);
        Assert.Equal(KubernetesSupport.Unknown, On("2026-12-06").StandingOf(CloudProvider.Aws, "1.20").Support);
    }

    [Fact]
    public void An_upgrade_goes_to_the_next_minor_version_the_provider_has_released_only()
    {
        var policy = On("2026-12-06");
        Assert.Equal(KubernetesMinor.Parse("1.35"), policy.UpgradeTarget(CloudProvider.Aws, "1.34"));
        Assert.Equal(KubernetesMinor.Parse("1.34"), policy.UpgradeTarget(CloudProvider.Sandbox, "1.33"));
        // EKS's calendar in the Portal has nothing after 1.35 yet.
        Assert.Null(policy.UpgradeTarget(CloudProvider.Aws, "1.35"));
        // ACK never offered 1.29: from 1.28 its next version is 1.30.
        Assert.Equal(KubernetesMinor.Parse("1.30"), policy.UpgradeTarget(CloudProvider.AliCloud, "1.28"));
        Assert.Equal(KubernetesMinor.Parse("1.36"), policy.UpgradeTarget(CloudProvider.AliCloud, "1.35"));
        Assert.Null(On("2026-04-01").UpgradeTarget(CloudProvider.AliCloud, "1.35"));
    }

    [Fact]
    public void Minor_versions_compare_as_numbers()
    {
        Assert.True(KubernetesMinor.Parse("1.100") > KubernetesMinor.Parse("1.99"));
        Assert.False(KubernetesMinor.TryParse("1.035", out _));
        Assert.False(KubernetesMinor.TryParse("1.35.2", out _));
        Assert.Equal("1.9", KubernetesMinor.Parse("1.9").ToString());
    }

    [Fact]
    public void A_calendar_with_mistakes_is_refused_with_every_mistake_listed()
    {
        var error = Assert.Throws<KubernetesCalendarException>(() => KubernetesCalendar.Parse("""
            {
              "platform": "Amazon EKS", "checked": "2026-12-06", "sources": ["http://example.com"],
              "versions": [
                { "version": "1.35", "released": "2026-01-27", "endOfStandardSupport": "2025-03-27" },
                { "version": "1.35", "released": "2026-01-27", "endOfStandardSupport": "2027-03-27" },
                { "version": "one.36", "released": "2026-05", "endOfStandardSupport": "2027-07-01" },
                { "version": "1.34", "released": "Oct 2025", "endOfStandardSupport": "2026-12-02", "endOfExtendedSupport": "2026-01-01" }
              ]
            }
            """, "test.json"));
        Assert.Contains(error.Problems, p => p.Contains("https addresses", StringComparison.Ordinal));
        Assert.Contains("versions[0] (1.35): standard support must end after the release", error.Problems);
        Assert.Contains("1.35 is listed 2 times", error.Problems);
        Assert.Contains(error.Problems, p => p.StartsWith("versions[2]: 'one.36'", StringComparison.Ordinal));
        Assert.Contains("versions[3] (1.34): 'released' must be YYYY-MM-DD or YYYY-MM", error.Problems);
        Assert.Contains("versions[3] (1.34): extended support must end after standard support", error.Problems);
        Assert.StartsWith("The Kubernetes calendar test.json cannot be used:", error.Message);
    }

    [Fact]
    public void A_missing_calendar_file_stops_the_options_check()
    {
        var empty = Directory.CreateTempSubdirectory("cogrion-calendar-").FullName;
        try
        {
            var result = new KubernetesVersionsOptionsValidator().Validate(null, new KubernetesVersionsOptions { CalendarDirectory = empty });
            Assert.True(result.Failed);
            Assert.Contains(result.Failures!, f => f.Contains("eks.json", StringComparison.Ordinal)
                && f.Contains("does not exist", StringComparison.Ordinal));
            Assert.True(new KubernetesVersionsOptionsValidator()
                .Validate(null, new KubernetesVersionsOptions { CalendarDirectory = ShippedDirectory }).Succeeded);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }
}
