using System.Text.Json.Nodes;
using Cogrion.Portal.Features.Workspaces.Apps;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Tests.Components.Apps;

/// <summary>
/// The install and upgrade forms generated from an app's values.schema.json: one input per option of every
/// kind the schema uses, values back as the API takes them, secrets never taken, and each problem found by
/// the server-side validation (the one the API uses) shown on its own field.
/// </summary>
public sealed class AppFormTests : PortalTestContext
{
    private static readonly Lazy<CatalogApp> Sample = new(() => CatalogApp.Load(SampleApp.Write()));

    [Fact]
    public void Every_kind_of_option_becomes_its_input_with_its_label_bounds_and_value()
    {
        var form = AppForm.For(Sample.Value, Sample.Value.Defaults);
        var fields = form.AllFields.ToDictionary(f => f.Path);

        Assert.Equal(AppFieldKind.Choice, fields["mode"].Kind);
        Assert.Equal(["small", "large"], fields["mode"].Choices);
        Assert.Equal("small", fields["mode"].Text);
        Assert.Equal(AppFieldKind.Text, fields["name"].Kind);
        Assert.Equal("^[a-z]+$", fields["name"].Pattern);
        Assert.Equal("Name", fields["name"].Label);
        Assert.Equal(AppFieldKind.Group, fields["server"].Kind);
        Assert.Equal(["server.replicas", "server.memoryRatio", "server.enabled", "server.tls", "server.token"],
            fields["server"].Children.Select(c => c.Path));
        Assert.Equal(AppFieldKind.Integer, fields["server.replicas"].Kind);
        Assert.Equal((1m, 5m), (fields["server.replicas"].Minimum!.Value, fields["server.replicas"].Maximum!.Value));
        Assert.Equal("From 1 to 5.", fields["server.replicas"].Hint);
        Assert.Equal("2", fields["server.replicas"].Text);
        Assert.Equal(AppFieldKind.Number, fields["server.memoryRatio"].Kind);
        Assert.True(fields["server.enabled"].Flag);
        Assert.Equal(AppFieldKind.List, fields["hosts"].Kind);
        Assert.Equal("a.example\nb.example", fields["hosts"].Text);
        Assert.Equal(AppFieldKind.Secret, fields["password"].Kind);
        Assert.Equal(AppFieldKind.Secret, fields["server.token"].Kind); // writeOnly alone makes it a secret
    }

    [Fact]
    public void The_values_come_back_typed_and_the_defaults_pass_the_server_side_check()
    {
        var form = AppForm.For(Sample.Value, Sample.Value.Defaults);

        var (values, errors) = form.ToValues();

        Assert.True(errors.IsEmpty);
        Assert.Equal(2, values["server"]!["replicas"]!.GetValue<long>());
        Assert.Equal(0.5m, values["server"]!["memoryRatio"]!.GetValue<decimal>());
        Assert.Equal(["a.example", "b.example"], values["hosts"]!.AsArray().Select(h => h!.GetValue<string>()));
        Assert.True(WorkspaceApps.Check(Sample.Value, "1.0.0", AppValues.Merge(Sample.Value.Defaults, values)).IsEmpty);
    }

    [Fact]
    public void A_secret_is_never_taken_even_if_something_was_put_in_it()
    {
        var form = AppForm.For(Sample.Value, Sample.Value.Defaults);
        foreach (var secret in form.AllFields.Where(f => f.Kind == AppFieldKind.Secret)) secret.Text = "hunter2";

        var (values, _) = form.ToValues();

        Assert.DoesNotContain("hunter2", values.ToJsonString(), StringComparison.Ordinal);
        Assert.Null(values["password"]);
    }

    [Fact]
    public void Each_problem_the_server_side_check_finds_is_shown_on_its_own_field()
    {
        var form = AppForm.For(Sample.Value, Sample.Value.Defaults);
        var fields = form.AllFields.ToDictionary(f => f.Path);
        fields["name"].Text = "Not Valid";
        fields["server.replicas"].Text = "9";

        var (values, parseErrors) = form.ToValues();
        var errors = WorkspaceApps.Check(Sample.Value, "1.0.0", AppValues.Merge(Sample.Value.Defaults, values));
        form.ShowErrors(errors);

        Assert.True(parseErrors.IsEmpty);
        Assert.NotNull(fields["name"].Error);
        Assert.NotNull(fields["server.replicas"].Error);
        Assert.Null(fields["mode"].Error);
        Assert.Empty(form.GeneralErrors);
        Assert.True(form.HasErrors);
    }

    [Fact]
    public void A_number_that_does_not_parse_is_named_on_its_field_and_an_unknown_error_is_general()
    {
        var form = AppForm.For(Sample.Value, Sample.Value.Defaults);
        form.AllFields.Single(f => f.Path == "server.replicas").Text = "two";

        var (_, errors) = form.ToValues();
        errors.Add("workspace", "No active Cluster Agent.");
        form.ShowErrors(errors);

        Assert.Contains("not a whole number", form.AllFields.Single(f => f.Path == "server.replicas").Error);
        Assert.Equal(["No active Cluster Agent."], form.GeneralErrors);
    }

    [Fact]
    public void Every_input_of_the_rendered_form_has_an_accessible_name_and_a_secret_is_a_plain_input_the_browser_module_reads()
    {
        var form = AppForm.For(Sample.Value, Sample.Value.Defaults);
        form.AllFields.Single(f => f.Path == "server.replicas").Error = "Must be at most 5.";

        var cut = Render<AppValuesForm>(p => p.Add(f => f.Fields, form.Fields));

        var inputs = cut.FindAll("input:not([type=hidden]), textarea");
        Assert.NotEmpty(inputs);
        foreach (var input in inputs)
        {
            var id = input.GetAttribute("id");
            var labelled = !string.IsNullOrEmpty(input.GetAttribute("aria-label"))
                || (id is not null && cut.FindAll($"label[for='{id}']").Count > 0)
                || input.Closest("label") is not null;
            Assert.True(labelled, $"An input without an accessible name: {input.OuterHtml}");
        }
        // A catalog secret is a plain password input that only the browser module reads: nothing of Blazor's is bound to it.
        var password = cut.Find("#values-password");
        Assert.Equal("password", password.GetAttribute("type"));
        Assert.False(password.HasAttribute("disabled"));
        Assert.DoesNotContain(password.Attributes, a => a.Name.StartsWith("blazor:", StringComparison.Ordinal) || a.Name == "value");
        Assert.Contains("Secret sample-password", cut.Find("#values-password-help").TextContent, StringComparison.Ordinal);
        // writeOnly without a place in the catalog's secret list: shown, never taken, nowhere to deliver it.
        Assert.True(cut.Find("#values-server-token").HasAttribute("disabled"));
        Assert.Contains("the catalog does not deliver", cut.Markup, StringComparison.Ordinal);
        Assert.Contains("Must be at most 5.", cut.Markup, StringComparison.Ordinal);
        Assert.Equal(["Server", "TLS"], cut.FindAll("fieldset.portal-fieldset").Select(f => f.GetAttribute("aria-label"))); // nested groups
        Assert.Equal(AppFieldKind.Group, form.AllFields.Single(f => f.Path == "server.tls").Kind);
    }

    [Fact]
    public void An_upgrade_form_left_alone_changes_nothing_and_one_edit_is_the_only_change_in_the_diff()
    {
        var current = AppValues.Merge(Sample.Value.Defaults, JsonNode.Parse("""{ "name": "lake" }""")!.AsObject());
        var form = AppForm.For(Sample.Value, current);

        Assert.Empty(AppValues.Diff(current, AppValues.Merge(current, form.ToValues().Values)));

        form.AllFields.Single(f => f.Path == "server.replicas").Text = "3";
        var diff = AppValues.Diff(current, AppValues.Merge(current, form.ToValues().Values));
        Assert.Equal([new ValueChange("server.replicas", "2", "3")], diff);
    }

    [Fact]
    public void An_option_the_values_never_set_stays_unset_unless_it_is_given()
    {
        var form = AppForm.For(Sample.Value, new JsonObject());

        var (values, _) = form.ToValues();
        Assert.Null(values["server"]); // an unticked box and empty fields leave the chart's own defaults alone
        Assert.Null(values["hosts"]);

        form.AllFields.Single(f => f.Path == "server.enabled").Flag = true;
        Assert.True(form.ToValues().Values["server"]!["enabled"]!.GetValue<bool>());
    }

    [Fact]
    public void Every_catalog_app_gets_a_form_whose_defaults_pass_the_server_side_check()
    {
        var catalog = new AppCatalog(Path.Combine(SampleApp.RepoRoot(), "catalog"));

        Assert.True(catalog.All.Count >= 6);
        foreach (var app in catalog.All)
        {
            var form = AppForm.For(app, app.Defaults);
            var (values, errors) = form.ToValues();
            Assert.Empty(AppValues.Diff(app.Defaults, AppValues.Merge(app.Defaults, values)));
            errors = errors.IsEmpty ? WorkspaceApps.Check(app, app.Chart.Latest, AppValues.Merge(app.Defaults, values)) : errors;
            Assert.True(errors.IsEmpty, $"{app.Id}: {string.Join("; ", errors.ToDictionary().Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))}");
            Assert.All(app.Secrets, s => Assert.Equal(AppFieldKind.Secret, form.AllFields.Single(f => f.Path == s).Kind));
        }
    }

    /// <summary>A catalog app folder with one option of every kind, written to a temporary directory.</summary>
    private static class SampleApp
    {
        public static string Write()
        {
            var dir = Path.Combine(Path.GetTempPath(), $"catalog-{Guid.NewGuid():N}", "sample");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "app.json"), """
                {
                  "id": "sample", "displayName": "Sample", "description": "Every kind of option.",
                  "chart": { "repository": "https://charts.example", "name": "sample", "versions": ["1.0.0"] },
                  "secrets": ["password"], "resources": { "cpu": "1", "memory": "1Gi" }, "podSecurity": "restricted"
                }
                """);
            File.WriteAllText(Path.Combine(dir, "values.schema.json"), """
                {
                  "$schema": "https://json-schema.org/draft/2020-12/schema",
                  "type": "object", "additionalProperties": false,
                  "properties": {
                    "mode": { "title": "Mode", "type": "string", "enum": ["small", "large"] },
                    "name": { "title": "Name", "type": "string", "pattern": "^[a-z]+$" },
                    "server": {
                      "title": "Server", "type": "object", "additionalProperties": false,
                      "properties": {
                        "replicas": { "title": "Replicas", "type": "integer", "minimum": 1, "maximum": 5 },
                        "memoryRatio": { "title": "Memory ratio", "type": "number", "minimum": 0, "maximum": 1 },
                        "enabled": { "title": "Enabled", "type": "boolean" },
                        "tls": { "title": "TLS", "type": "object", "properties": { "issuer": { "type": "string" } } },
                        "token": { "title": "Token", "type": "string", "writeOnly": true }
                      }
                    },
                    "hosts": { "title": "Hosts", "type": "array", "items": { "type": "string" } },
                    "password": { "title": "Password", "type": "string", "writeOnly": true }
                  }
                }
                """);
            File.WriteAllText(Path.Combine(dir, "values.yaml"), """
                mode: small
                server:
                  replicas: 2
                  memoryRatio: 0.5
                  enabled: true
                hosts:
                  - a.example
                  - b.example
                """);
            return dir;
        }

        public static string RepoRoot()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Portal.sln"))) return dir.FullName;
            throw new DirectoryNotFoundException("Portal.sln not found above the test's directory.");
        }
    }
}
