using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Workspaces.Apps;
using Cogrion.Portal.Tests.Architecture;
using Json.Schema;

namespace Cogrion.Portal.Tests.Apps;

/// <summary>The catalog folder as the Portal loads it: every app is complete, its schema is JSON Schema, its defaults pass it.</summary>
public sealed class CatalogTests
{
    private static readonly Lazy<AppCatalog> Catalog = new(() => new AppCatalog(Path.Combine(DependencyTests.RepoRoot(), "catalog")));

    public static TheoryData<string> AppIds
        => new(Directory.EnumerateDirectories(Path.Combine(DependencyTests.RepoRoot(), "catalog")).Select(Path.GetFileName).Order()!);

    [Fact]
    public void The_catalog_has_the_six_apps_the_product_promises()
    {
        Assert.Equal(["airflow", "jupyterhub", "mlflow", "spark-operator", "superset", "trino"], Catalog.Value.All.Select(a => a.Id).Order()
            .ToArray());
    }

    [Theory]
    [MemberData(nameof(AppIds))]
    public void Each_schema_is_a_valid_draft_2020_12_schema(string id)
    {
        var app = Catalog.Value.Find(id)!;
        var verdict = MetaSchemas.Draft202012.Evaluate(JsonSerializer.SerializeToElement(app.SchemaDocument),
            new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(verdict.IsValid,
            string.Join("; ", (verdict.Details ?? []).SelectMany(d => d.Errors ?? new Dictionary<string, string>()).Select(e => e.Value)));
    }

    [Theory]
    [MemberData(nameof(AppIds))]
    public void Each_apps_defaults_pass_its_schema_and_it_pins_versions_and_says_its_needs(string id)
    {
        var app = Catalog.Value.Find(id)!;
        var errors = AppValues.Validate(app, app.Defaults);
        Assert.True(errors.IsEmpty, string.Join("; ", errors.ToDictionary().Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
        Assert.NotEmpty(app.Chart.Versions);
        Assert.All(app.Chart.Versions, v => Assert.Matches(@"^\d+\.\d+\.\d+$", v));
        Assert.StartsWith("https://", app.Chart.Repository);
        Assert.NotEmpty(app.Workloads);
        Assert.NotEmpty(app.PodSecurityReason);
        Assert.Contains("<svg", app.IconSvg);
        Assert.True(File.Exists(Path.Combine(DependencyTests.RepoRoot(), "catalog", id, "SOURCES.md")),
            $"catalog/{id}/SOURCES.md says where the chart facts come from");
    }

    [Theory]
    [MemberData(nameof(AppIds))]
    public void The_secret_list_and_the_schemas_write_only_fields_agree(string id)
    {
        var app = Catalog.Value.Find(id)!;
        Assert.Equal(app.Secrets.Order(StringComparer.Ordinal), WriteOnlyPaths(app.SchemaDocument, "").Order(StringComparer.Ordinal));
        // No default carries a secret: the Portal never holds one.
        Assert.DoesNotContain(AppValues.Leaves(app.Defaults, ""), l => app.IsSecret(l.Path));
    }

    [Fact]
    public void Every_schema_violation_is_listed_by_field_at_once()
    {
        var airflow = Catalog.Value.Find("airflow")!;
        var values = AppValues.Merge(airflow.Defaults, JsonNode.Parse("""
            { "executor": "SequentialExecutor", "webserver": { "replicas": 9 }, "dags": { "gitSync": { "repo": "ftp://x" } }, "surprise": true }
            """)!.AsObject());
        var errors = AppValues.Validate(airflow, values).ToDictionary();
        Assert.Contains("values.executor", errors.Keys);
        Assert.Contains("values.webserver.replicas", errors.Keys);
        Assert.Contains("values.dags.gitSync.repo", errors.Keys);
        Assert.Equal("surprise is not an option of Apache Airflow.", Assert.Single(errors["values.surprise"]));
    }

    [Fact]
    public void A_secret_value_is_refused_with_a_clear_message_and_an_empty_one_is_not()
    {
        var airflow = Catalog.Value.Find("airflow")!;
        var withSecret = AppValues.Merge(airflow.Defaults, JsonNode.Parse("""{ "fernetKey": "c2VjcmV0" }""")!.AsObject());
        var message = Assert.Single(AppValues.Validate(airflow, withSecret).ToDictionary()["values.fernetKey"]);
        Assert.Contains("secret", message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("c2VjcmV0", message, StringComparison.Ordinal);
        Assert.True(AppValues.Validate(airflow, AppValues.Merge(airflow.Defaults, JsonNode.Parse("""{ "fernetKey": "" }""")!.AsObject())).IsEmpty);
    }

    [Fact]
    public void The_release_is_a_flux_v2_helm_release_with_remediation_drift_detection_and_history()
    {
        var airflow = Catalog.Value.Find("airflow")!;
        var payload = AppManifests.Release(airflow, "airflow", "1.16.0", airflow.Defaults, revision: 3, secretPaths: [],
            requestedAt: DateTimeOffset.UnixEpoch);
        var repository = payload.Objects[0];
        var release = payload.Objects[1];
        Assert.Equal("source.toolkit.fluxcd.io/v1", repository["apiVersion"]!.GetValue<string>());
        Assert.Equal("https://airflow.apache.org", repository["spec"]!["url"]!.GetValue<string>());
        Assert.Equal("helm.toolkit.fluxcd.io/v2", release["apiVersion"]!.GetValue<string>());
        var spec = release["spec"]!;
        Assert.Equal("1.16.0", spec["chart"]!["spec"]!["version"]!.GetValue<string>());
        Assert.Equal("HelmRepository", spec["chart"]!["spec"]!["sourceRef"]!["kind"]!.GetValue<string>());
        Assert.Equal(3, spec["install"]!["remediation"]!["retries"]!.GetValue<int>());
        Assert.Equal("rollback", spec["upgrade"]!["remediation"]!["strategy"]!.GetValue<string>());
        Assert.Equal("enabled", spec["driftDetection"]!["mode"]!.GetValue<string>());
        Assert.Equal(10, spec["maxHistory"]!.GetValue<int>());
        Assert.Equal("3", release["metadata"]!["annotations"]![AppManifests.RevisionAnnotation]!.GetValue<string>());
        Assert.Equal("baseline", AppManifests.Namespace(airflow, "airflow").PodSecurity);
        Assert.Equal("restricted", AppManifests.Namespace(Catalog.Value.Find("spark-operator")!, "spark-operator").PodSecurity);
    }

    [Fact]
    public void Each_secret_value_comes_from_its_own_secret_through_values_from_at_the_charts_option_and_never_from_the_values()
    {
        var airflow = Catalog.Value.Find("airflow")!;
        Assert.Equal("airflow-webserver-defaultuser-password", airflow.SecretFields.Single(f => f.Path == "webserver.defaultUser.password")
            .SecretName);
        Assert.All(Catalog.Value.All.SelectMany(a => a.SecretFields), f => Assert.Matches(SealedSecrets.SecretName(), f.SecretName));
        // Even a value that slipped into the values (an empty string the form sent) must not override the Secret: spec.values wins in Flux.
        var values = AppValues.Merge(airflow.Defaults, JsonNode.Parse("""{ "fernetKey": "", "webserver": { "defaultUser": { "password": "" } } }""")!
            .AsObject());
        var release = AppManifests.Release(airflow, "airflow", "1.16.0", values, 2, ["fernetKey", "webserver.defaultUser.password"],
            DateTimeOffset.Parse("2026-12-06T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture)).Objects[1];

        var from = release["spec"]!["valuesFrom"]!.AsArray().Select(v => v!.AsObject()).ToList();
        Assert.Equal(["fernetKey", "webserver.defaultUser.password"], from.Select(v => v["targetPath"]!.GetValue<string>()));
        Assert.All(from, v => Assert.Equal("Secret", v["kind"]!.GetValue<string>()));
        Assert.All(from, v => Assert.Equal(CatalogApp.SecretKey, v["valuesKey"]!.GetValue<string>()));
        Assert.Equal("airflow-fernetkey", from[0]["name"]!.GetValue<string>());
        var spec = release["spec"]!["values"]!.AsObject();
        Assert.Null(spec["fernetKey"]);
        Assert.Null(spec["webserver"]!["defaultUser"]!["password"]);
        Assert.Equal("admin", spec["webserver"]!["defaultUser"]!["username"]!.GetValue<string>());
        Assert.Equal("2026-12-06T08:00:00.0000000Z", release["metadata"]!["annotations"]![AppManifests.RequestedAtAnnotation]!.GetValue<string>());
    }

    private static IEnumerable<string> WriteOnlyPaths(JsonObject schema, string prefix)
    {
        foreach (var (key, property) in schema["properties"] as JsonObject ?? [])
        {
            var path = prefix.Length == 0 ? key : $"{prefix}.{key}";
            if (property?["writeOnly"]?.GetValue<bool>() == true) yield return path;
            if (property is JsonObject child) foreach (var inner in WriteOnlyPaths(child, path)) yield return inner;
        }
    }
}

/// <summary>How a report of a Flux HelmRelease becomes what people read, the last failure kept.</summary>
public sealed class AppStatusTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-12-06T06:00:00Z");

    private static WorkspaceApp App(AppReport? report, int revision = 1, AppFailure? failure = null)
        => new(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(),
        "airflow", "airflow", AppDesiredState.Installed, "1.16.0", [], revision, Now, report, report is null ? null : Now, failure, "alice",
            Now.AddHours(-1), []);

    private static AppReport Report(int revision, string[] conditions, params WorkloadReadiness[] workloads)
        => new("airflow", "airflow", "airflow", 2, 2,
        conditions.Select(c => c.Split('|')).Select(p => new ReleaseCondition(p[0], p[1], p[2], p[3], Now)).ToList(), "1.16.0", "1.15.0", workloads,
        revision.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void A_released_app_whose_workloads_are_ready_is_ready_and_one_with_an_unready_workload_is_degraded()
    {
        string[] ok = ["Ready|True|UpgradeSucceeded|Helm upgrade succeeded", "Released|True|UpgradeSucceeded|Helm upgrade succeeded"];
        Assert.Equal(AppState.Ready,
            AppStatus.Derive(App(Report(1, ok, new WorkloadReadiness("Deployment", "airflow-webserver", 1, 1))), Now, TimeSpan.FromMinutes(2), Now)
            .State);
        var degraded = AppStatus.Derive(App(Report(1, ok, new WorkloadReadiness("Deployment", "airflow-webserver", 1, 0))), Now,
            TimeSpan.FromMinutes(2), Now);
        Assert.Equal(AppState.Degraded, degraded.State);
        Assert.Contains("airflow-webserver 0/1", degraded.Cause);
    }

    [Fact]
    public void A_report_of_an_older_revision_is_still_installing_and_a_remediated_upgrade_is_failed_with_the_upgrades_error()
    {
        string[] ok = ["Ready|True|InstallSucceeded|fine", "Released|True|InstallSucceeded|fine"];
        Assert.Equal(AppState.Installing, AppStatus.Derive(App(Report(1, ok), revision: 2), Now, TimeSpan.FromMinutes(2), Now).State);
        string[] rolledBack = ["Ready|False|RollbackSucceeded|Helm rollback to previous release succeeded",
            "Released|False|UpgradeFailed|Helm upgrade failed: execution error",
                "Remediated|True|RollbackSucceeded|Helm rollback to previous release succeeded"];
        var failed = AppStatus.Derive(App(Report(2, rolledBack), revision: 2), Now, TimeSpan.FromMinutes(2), Now);
        Assert.Equal(AppState.Failed, failed.State);
        Assert.StartsWith("Helm upgrade failed: execution error", failed.Cause);
        Assert.Equal("UpgradeFailed", AppStatus.FailureIn(Report(2, rolledBack), Now)!.Reason);
    }

    [Fact]
    public void A_silent_agent_is_said_with_the_time_it_was_last_heard_and_the_last_failure_stays_after_success()
    {
        string[] ok = ["Ready|True|UpgradeSucceeded|fine", "Released|True|UpgradeSucceeded|fine"];
        var failure = new AppFailure("UpgradeFailed", "Helm upgrade failed", "1.16.0", Now.AddMinutes(-5));
        var lastSeen = Now.AddMinutes(-10);
        var status = AppStatus.Derive(App(Report(1, ok), failure: failure), lastSeen, TimeSpan.FromMinutes(2), Now);
        Assert.Equal(lastSeen, status.AgentSilentSince);
        Assert.Equal(failure, status.LastFailure);
        Assert.Equal(AppState.Ready, status.State);
        Assert.Null(AppStatus.Derive(App(Report(1, ok)), Now.AddSeconds(-5), TimeSpan.FromMinutes(2), Now).AgentSilentSince);
    }
}
