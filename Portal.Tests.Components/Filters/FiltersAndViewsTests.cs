using Cogrion.Portal.Components.Theme;
using Cogrion.Portal.Features.Audit;
using Cogrion.Portal.Features.Jobs;
using Cogrion.Portal.Features.Tenants;
using Microsoft.Extensions.DependencyInjection;

namespace Cogrion.Portal.Tests.Components.Filters;

/// <summary>The small types behind the consoles' filter bars, charts, tree and theme.</summary>
public sealed class FiltersAndViewsTests : PortalTestContext
{
    [Fact]
    public void The_audit_export_link_carries_exactly_the_filters_the_grid_shows()
    {
        var filters = new AuditTrailFilters { Action = " tenant. ", ActorKind = "user", From = new DateTime(2026, 12, 1, 8, 30, 0) };

        var url = filters.ExportUrl("api/v1/tenants/acme/audit/export", "csv");

        Assert.Equal("api/v1/tenants/acme/audit/export?format=csv&action=tenant.&actorKind=user&from=2026-12-01T08%3A30%3A00.0000000%2B00%3A00", url);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 8, 30, 0, TimeSpan.Zero), filters.ToFilter().From);
    }

    [Fact]
    public void Clearing_the_audit_filters_clears_every_one()
    {
        var filters = new AuditTrailFilters { Action = "x", Actor = "y", ActorKind = "agent", From = DateTime.UtcNow, To = DateTime.UtcNow };

        filters.Clear();

        Assert.Equal(new AuditFilter(), filters.ToFilter());
    }

    [Fact]
    public void A_tenant_filter_that_is_not_an_id_is_said_at_its_field_and_the_other_filters_still_apply()
    {
        var filters = new JobConsoleFilters { State = "failed", Tenant = "acme" };

        var filter = filters.ToFilter();

        Assert.Equal("failed", filter.State);
        Assert.Null(filter.TenantId);
        Assert.Contains("not a tenant id", filters.Errors.For("tenant"));
        Assert.False(filters.IsEmpty);
    }

    [Fact]
    public void The_job_charts_say_their_figures_in_words_and_thin_out_crowded_labels()
    {
        var rows = Enumerable.Range(0, 60).Select(i => new JobCharts.ChartRow($"10:{i:00}", i % 2, i == 59 ? 3 : 0, i == 30 ? 7 : 1)).ToList();

        var view = JobChartView.From(rows);

        Assert.Equal("30 succeeded and 3 failed in this span.", view.FinishedSummary);
        Assert.Equal("1 due now; at most 7 in this span.", view.QueueSummary);
        Assert.True(view.Labels.Count(l => l.Length > 0) <= 12);
        Assert.Equal(["Succeeded", "Failed"], view.Finished.Select(s => s.Name));
    }

    [Fact]
    public void The_tenant_tree_nests_children_under_their_parents_from_the_flat_list()
    {
        var root = Guid.NewGuid();
        var child = Guid.NewGuid();
        var grandchild = Guid.NewGuid();
        IReadOnlyList<TenantNode> flat =
        [
            new(root, null, "acme", "Acme", "acme.test", 0),
            new(child, root, "eu", "Acme EU", "eu.acme.test", 1),
            new(grandchild, child, "fr", "Acme FR", "fr.eu.acme.test", 2),
        ];

        var tree = TenantTree.Build(flat, root);

        var top = Assert.Single(tree);
        Assert.Equal("acme", top.Value!.Slug);
        Assert.Equal("fr", Assert.Single(Assert.Single(top.Children!).Children!).Value!.Slug);
        Assert.True(top.Expanded);
    }

    [Fact]
    public void The_theme_stylesheet_holds_both_schemes_and_follows_the_system_when_asked()
    {
        var css = ThemeStylesheet.Build(Services.GetRequiredService<BrandTheme>()).Css;

        Assert.Contains(":root, html[data-colour-scheme=\"light\"] {", css);
        Assert.Contains("html[data-colour-scheme=\"dark\"] {", css);
        Assert.Contains("@media (prefers-color-scheme: dark) { html[data-colour-scheme=\"system\"] {", css);
        // The brand's primary colours from brand.json, light then dark.
        Assert.Contains("--mud-palette-primary: rgba(51,70,196,1);", css);
        Assert.Contains("--mud-palette-primary: rgba(140,155,255,1);", css);
    }

    [Fact]
    public void The_colour_scheme_button_walks_system_dark_light_and_an_unknown_cookie_means_system()
    {
        Assert.Equal(ColourScheme.Dark, ColourSchemeCookie.Next(ColourScheme.System));
        Assert.Equal(ColourScheme.Light, ColourSchemeCookie.Next(ColourScheme.Dark));
        Assert.Equal(ColourScheme.System, ColourSchemeCookie.Next(ColourScheme.Light));
        Assert.Equal(ColourScheme.System, ColourSchemeCookie.Parse("purple"));
        Assert.Equal("dark", ColourSchemeCookie.ToValue(ColourSchemeCookie.Parse("dark")));
    }
}
