using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>The Pod Security level an app's namespace enforces: restricted where the chart allows it, else baseline.</summary>
public enum PodSecurityLevel { Restricted, Baseline }

public sealed record ChartReference(string Repository, string Name, IReadOnlyList<string> Versions)
{
    /// <summary>The newest supported version (the catalog lists them oldest first).</summary>
    public string Latest => Versions[^1];
}

public sealed record AppResources(string Cpu, string Memory, int Pods);

/// <summary>What the app needs from the workspace: a database of one of these engines, or the chart's bundled one.</summary>
public sealed record DatabaseNeed(IReadOnlyList<string> Engines, string? BundledWhenAbsent, string Note, DatabaseWiring? Workspace = null);

/// <summary>
/// How the app uses the workspace's own database (app.json <c>needs.database.workspace</c>): the values that point the chart at it
/// and turn its bundled one off (placeholders <c>{host}</c>, <c>{port}</c>, <c>{port:number}</c>, <c>{database}</c>, <c>{user}</c>),
/// and the secret field that carries the role's password (sealed in the browser, read by the release through valuesFrom).
/// </summary>
public sealed record DatabaseWiring(string Engine, JsonObject Values, string PasswordPath);

public sealed record AppEndpoint(string Service, int Port);

public sealed record AppWorkload(string Kind, string Name);

/// <summary>
/// A secret value of an app: its dotted value path (the chart's option name) and the Kubernetes Secret, in the app's
/// namespace, that holds it under <see cref="CatalogApp.SecretKey"/>. One Secret per field, so delivering one field
/// (which replaces a Secret's data) never drops another; the HelmRelease takes it through valuesFrom.
/// </summary>
public sealed record AppSecretField(string Path, string SecretName);

/// <summary>
/// One app of the catalog, read from <c>catalog/&lt;id&gt;/</c>: app.json (what it is, its chart, its needs),
/// values.schema.json (the options we expose, the real chart's names) and values.yaml (our defaults).
/// </summary>
public sealed record CatalogApp(
    string Id,
    string DisplayName,
    string Description,
    string IconSvg,
    ChartReference Chart,
    IReadOnlyList<string> Secrets,
    AppResources Resources,
    DatabaseNeed? Database,
    AppEndpoint? Endpoint,
    PodSecurityLevel PodSecurity,
    string PodSecurityReason,
    IReadOnlyList<AppWorkload> Workloads,
    JsonObject SchemaDocument,
    JsonSchema Schema,
    JsonObject Defaults)
{
    /// <summary>The app's address, by Cozystack's domain rule: &lt;app&gt;.&lt;workspace&gt;.&lt;tenant domain&gt;.</summary>
    public string AddressIn(string workspaceDomain) => $"{Id}.{workspaceDomain}";

    /// <summary>The key each app secret's value has in its Kubernetes Secret (the HelmRelease's valuesKey).</summary>
    public const string SecretKey = "value";

    public bool IsSecret(string path) => Secrets.Contains(path, StringComparer.Ordinal);

    /// <summary>Each secret value with the Secret that carries it: <c>&lt;app&gt;-&lt;path in lower case, '-' for the rest&gt;</c>.</summary>
    public IReadOnlyList<AppSecretField> SecretFields => Secrets.Select(p => new AppSecretField(p, SecretNameFor(Id, p))).ToList();

    public AppSecretField? SecretFieldBySecretName(string? name) => SecretFields.FirstOrDefault(f => f.SecretName == name);

    internal static string SecretNameFor(string appId, string path)
    {
        var slug = new string(path.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray());
        while (slug.Contains("--", StringComparison.Ordinal)) slug = slug.Replace("--", "-", StringComparison.Ordinal);
        return $"{appId}-{slug.Trim('-')}";
    }

    /// <summary>Reads one app folder; throws with the file and the problem when the folder is not a valid app.</summary>
    public static CatalogApp Load(string directory)
    {
        var id = Path.GetFileName(directory);
        var app = ReadObject(Path.Combine(directory, "app.json"));
        var schemaText = File.ReadAllText(Path.Combine(directory, "values.schema.json"));
        var schemaDocument = JsonNode.Parse(schemaText) as JsonObject ?? throw Invalid(directory, "values.schema.json is not a JSON object");
        // Each schema gets its own registry and base URI, so loading the catalog twice (tests, reloads) never collides.
        var schema = JsonSchema.FromText(schemaText, new BuildOptions { SchemaRegistry = new SchemaRegistry() },
            new Uri($"https://catalog.cogrion.io/{id}/values.schema.json"));
        var defaults = Cogrion.Sandbox.YamlDocuments.Parse(File.ReadAllText(Path.Combine(directory, "values.yaml")));
        var chart = app["chart"] as JsonObject ?? throw Invalid(directory, "app.json has no chart");
        var versions = Strings(chart["versions"]);
        if (versions.Count == 0) throw Invalid(directory, "app.json lists no chart versions");
        var resources = app["resources"] as JsonObject ?? throw Invalid(directory, "app.json has no resources");
        var database = app["needs"]?["database"] as JsonObject;
        var endpoint = app["endpoint"] as JsonObject;
        var level = Text(app["podSecurity"]) switch
        {
            "restricted" => PodSecurityLevel.Restricted,
            "baseline" => PodSecurityLevel.Baseline,
            var other => throw Invalid(directory, $"podSecurity '{other}' is neither restricted nor baseline"),
        };
        var iconFile = Path.Combine(directory, Text(app["icon"]) ?? "icon.svg");
        var secrets = Strings(app["secrets"]);
        if (secrets.GroupBy(p => SecretNameFor(id, p)).FirstOrDefault(g => g.Count() > 1) is { } clash)
            throw Invalid(directory, $"the secrets {string.Join(" and ", clash)} would share the Secret {clash.Key}");
        return new CatalogApp(
            Text(app["id"]) is { } declared && declared == id ? id : throw Invalid(directory, $"app.json's id must be the folder's name ({id})"),
            Required(app, "displayName", directory),
            Required(app, "description", directory),
            File.Exists(iconFile) ? File.ReadAllText(iconFile) : "",
            new ChartReference(Required(chart, "repository", directory), Required(chart, "name", directory), versions),
            secrets,
            new AppResources(Required(resources, "cpu", directory), Required(resources, "memory", directory),
                (int)(resources["pods"]?.GetValue<long>() ?? 20)),
            database is null ? null
                : new DatabaseNeed(Strings(database["engines"]), Text(database["bundledWhenAbsent"]), Text(database["note"]) ?? "",
                    Wiring(database["workspace"] as JsonObject, secrets, directory)),
            endpoint is null ? null : new AppEndpoint(Required(endpoint, "service", directory), (int)endpoint["port"]!.GetValue<long>()),
            level,
            Text(app["podSecurityReason"]) ?? "",
            (app["workloads"] as JsonArray ?? []).OfType<JsonObject>()
                .Select(w => new AppWorkload(Required(w, "kind", directory), Required(w, "name", directory))).ToList(),
            schemaDocument,
            schema,
            defaults);
    }

    private static DatabaseWiring? Wiring(JsonObject? wiring, IReadOnlyList<string> secrets, string directory)
    {
        if (wiring is null) return null;
        var password = Required(wiring, "password", directory);
        // The password is only ever a sealed secret value: a wiring whose password field is not one would carry it in plain text.
        if (!secrets.Contains(password, StringComparer.Ordinal))
            throw Invalid(directory, $"needs.database.workspace.password '{password}' is not one of the app's secrets");
        return new DatabaseWiring(Required(wiring, "engine", directory),
            wiring["values"] as JsonObject ?? throw Invalid(directory, "needs.database.workspace has no values"), password);
    }

    private static JsonObject ReadObject(string path) =>
        JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path} is not a JSON object.");

    private static string Required(JsonObject o, string field, string directory) =>
        Text(o[field]) is { Length: > 0 } text ? text : throw Invalid(directory, $"'{field}' is missing");

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static List<string> Strings(JsonNode? node) => (node as JsonArray ?? []).Select(n => Text(n) ?? "").Where(s => s.Length > 0).ToList();

    private static InvalidDataException Invalid(string directory, string problem) => new($"Catalog app {directory}: {problem}.");
}

/// <summary>The catalog: every app folder under the catalog root, loaded once at start (a bad folder stops the Portal).</summary>
public sealed class AppCatalog
{
    private readonly Dictionary<string, CatalogApp> apps;

    public AppCatalog(string root)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"The app catalog is not at {root}.");
        apps = Directory.EnumerateDirectories(root).Where(d => File.Exists(Path.Combine(d, "app.json")))
            .Select(CatalogApp.Load).ToDictionary(a => a.Id, StringComparer.Ordinal);
    }

    public IReadOnlyList<CatalogApp> All => apps.Values.OrderBy(a => a.DisplayName, StringComparer.OrdinalIgnoreCase).ToList();

    public CatalogApp? Find(string? id) => id is not null && apps.TryGetValue(id, out var app) ? app : null;

    internal static JsonElement ToElement(JsonNode node) => JsonSerializer.SerializeToElement(node);
}
