using System.Text.Json.Nodes;
using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Apps;

namespace Cogrion.Portal.Tests.Components.Apps;

/// <summary>
/// The install form's database choice: with a workspace database the app can use, the form starts on it, names the database
/// and role, shows the SQL that creates them, and the values point the chart at it with its bundled database off (the
/// chart's own option names); without one, only the bundled database, with the reason.
/// </summary>
public sealed class AppDatabaseChoiceTests : PortalTestContext
{
    private static readonly Lazy<AppCatalog> Catalog = new(() => new AppCatalog(Path.Combine(RepoRoot(), "catalog")));

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Portal.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("The repository root (Portal.sln) is not above the tests.");
    }

    private static Workspace Lake(DatabaseInput? database, Dictionary<string, string>? outputs) => new(Guid.NewGuid(), Guid.NewGuid(), "lake",
        Guid.NewGuid(), CloudProvider.Sandbox, "eu-central-1", "10.40.0.0/16", "1.31", [], false, database, ApprovalMode.Automatic,
        WorkspaceStatus.Ready, null, outputs, "ada", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);

    private static readonly Dictionary<string, string> Outputs = new()
    {
        ["database_endpoint"] = "lake-db.c9akciq32abc.eu-central-1.rds.amazonaws.com",
        ["database_port"] = "5432",
        ["database_master_secret_ref"] = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:rds!db-lake",
    };

    [Fact]
    public void Each_app_that_needs_a_database_points_its_chart_at_the_workspaces_with_the_real_option_names()
    {
        var database = AppDatabase.Of(Lake(new DatabaseInput("postgres", "small"), Outputs))!;
        var airflow = AppDatabase.Plan(Catalog.Value.Find("airflow")!, database)!;
        Assert.False(airflow.Values["postgresql"]!["enabled"]!.GetValue<bool>());
        Assert.Equal(Outputs["database_endpoint"], airflow.Values["data"]!["metadataConnection"]!["host"]!.GetValue<string>());
        Assert.Equal(5432, airflow.Values["data"]!["metadataConnection"]!["port"]!.GetValue<int>());
        Assert.Equal("data.metadataConnection.pass", airflow.PasswordPath);
        Assert.Contains("CREATE ROLE airflow LOGIN PASSWORD", airflow.Sql, StringComparison.Ordinal);
        Assert.Contains("CREATE DATABASE airflow OWNER airflow;", airflow.Sql, StringComparison.Ordinal);

        Assert.Equal($"postgresql+psycopg2://jupyterhub@{Outputs["database_endpoint"]}:5432/jupyterhub",
            AppDatabase.Plan(Catalog.Value.Find("jupyterhub")!, database)!.Values["hub"]!["db"]!["url"]!.GetValue<string>());
        Assert.True(AppDatabase.Plan(Catalog.Value.Find("mlflow")!, database)!.Values["backendStore"]!["postgres"]!["enabled"]!.GetValue<bool>());
        Assert.Equal("5432", AppDatabase.Plan(Catalog.Value.Find("superset")!, database)!
            .Values["supersetNode"]!["connections"]!["db_port"]!.GetValue<string>());
        Assert.Null(AppDatabase.Plan(Catalog.Value.Find("trino")!, database));

        // Every plan's values pass the app's own schema: the options exist in the chart (the schema lists only real names).
        foreach (var app in Catalog.Value.All.Where(a => a.Database?.Workspace is not null))
        {
            var plan = AppDatabase.Plan(app, database)!;
            Assert.True(WorkspaceApps.Check(app, app.Chart.Latest, AppValues.Merge(app.Defaults, plan.Values)).IsEmpty, app.Id);
            Assert.Contains(plan.PasswordPath, app.Secrets);
        }
    }

    [Fact]
    public void The_form_starts_on_the_workspace_database_and_shows_the_SQL_to_run()
    {
        var airflow = Catalog.Value.Find("airflow")!;
        var plan = AppDatabase.Plan(airflow, AppDatabase.Of(Lake(new DatabaseInput("postgres", "small"), Outputs)));
        var chosen = AppDatabaseChoice.Workspace;
        var field = Render<AppDatabaseChoiceField>(p => p
            .Add(c => c.Definition, airflow)
            .Add(c => c.Plan, plan)
            .Add(c => c.Choice, chosen)
            .Add(c => c.ChoiceChanged, (AppDatabaseChoice c) => chosen = c));

        Assert.True(field.Find("input[value=workspace]").HasAttribute("checked"));
        Assert.Contains("CREATE ROLE airflow", field.Find("pre[aria-label='SQL to run']").TextContent, StringComparison.Ordinal);
        Assert.Contains("rds!db-lake", field.Markup, StringComparison.Ordinal);
        field.Find("input[value=bundled]").Change(true);
        Assert.Equal(AppDatabaseChoice.Bundled, chosen);
    }

    [Fact]
    public void Without_a_workspace_database_only_the_bundled_one_can_be_chosen_and_the_form_says_why()
    {
        var superset = Catalog.Value.Find("superset")!;
        var none = AppDatabase.Of(Lake(null, new Dictionary<string, string> { ["database_endpoint"] = "", ["database_port"] = "" }));
        Assert.Null(none);
        var field = Render<AppDatabaseChoiceField>(p => p
            .Add(c => c.Definition, superset)
            .Add(c => c.Plan, AppDatabase.Plan(superset, none))
            .Add(c => c.Unavailable, AppDatabase.Unavailable(superset, none))
            .Add(c => c.Choice, AppDatabaseChoice.Bundled));

        Assert.True(field.Find("input[value=workspace]").HasAttribute("disabled"));
        Assert.True(field.Find("input[value=bundled]").HasAttribute("checked"));
        Assert.Contains("no database of its own", field.Find("[aria-label='Database used']").TextContent, StringComparison.Ordinal);
        Assert.Empty(field.FindAll("pre"));
    }
}
