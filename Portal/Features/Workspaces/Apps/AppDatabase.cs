using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>Which database an app installs against: the chart's bundled one, or the workspace's own (RDS / PolarDB).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AppDatabaseChoice>))]
public enum AppDatabaseChoice { Bundled, Workspace }

/// <summary>The workspace's managed database, as its last apply's outputs give it (never a credential: docs/module-interface.md).</summary>
public sealed record WorkspaceDatabase(string Engine, string Host, int Port, string? MasterSecretRef);

/// <summary>
/// An app against the workspace's database: the role and database the tenant creates (named after the app), the SQL that
/// creates them, the values that point the chart there (bundled database off), and the secret field that takes the role's
/// password, sealed in the browser like every secret value (ADR 0078).
/// </summary>
public sealed record AppDatabasePlan(WorkspaceDatabase Database, string Name, string User, JsonObject Values, string PasswordPath, string Sql);

/// <summary>Works out whether and how an app can use its workspace's database (docs/catalog.md, "The workspace's database").</summary>
public static class AppDatabase
{
    /// <summary>The workspace's database once an apply has reported it (outputs database_endpoint and database_port), else null.</summary>
    public static WorkspaceDatabase? Of(Workspace workspace)
    {
        if (workspace.Database is not { } input || workspace.Outputs is not { } outputs) return null;
        if (outputs.GetValueOrDefault("database_endpoint") is not { Length: > 0 } host) return null;
        if (!int.TryParse(outputs.GetValueOrDefault("database_port"), NumberStyles.None, CultureInfo.InvariantCulture, out var port)) return null;
        return new WorkspaceDatabase(input.Engine, host, port,
            outputs.GetValueOrDefault("database_master_secret_ref") is { Length: > 0 } reference ? reference : null);
    }

    /// <summary>The plan for this app on this database; null when the app needs none, has no wiring, or the engine does not fit.</summary>
    public static AppDatabasePlan? Plan(CatalogApp app, WorkspaceDatabase? database)
    {
        if (database is null || app.Database?.Workspace is not { } wiring || wiring.Engine != database.Engine) return null;
        // The app's id is a DNS label; the role and database are the same name with '_' for '-', which PostgreSQL takes unquoted.
        var name = app.Id.Replace('-', '_');
        var values = (JsonObject)Fill(wiring.Values, database, name)!;
        return new AppDatabasePlan(database, name, name, values, wiring.PasswordPath, Sql(database, name));
    }

    /// <summary>What the tenant runs once, connected as the database's master user, before installing.</summary>
    public static string Sql(WorkspaceDatabase database, string name) => database.Engine switch
    {
        "mysql" or "polardb" => $"""
            CREATE USER '{name}'@'%' IDENTIFIED BY '<the password you type into the form>';
            CREATE DATABASE {name};
            GRANT ALL PRIVILEGES ON {name}.* TO '{name}'@'%';
            """,
        _ => $"""
            CREATE ROLE {name} LOGIN PASSWORD '<the password you type into the form>';
            CREATE DATABASE {name} OWNER {name};
            """,
    };

    /// <summary>Why an app cannot use the workspace's database, in words for the form; null when it can.</summary>
    public static string? Unavailable(CatalogApp app, WorkspaceDatabase? database) =>
        app.Database is null ? $"{app.DisplayName} needs no database."
        : app.Database.Workspace is null ? $"{app.DisplayName} only runs with its chart's bundled database."
        : database is null ? "This workspace has no database of its own (or its last apply did not report one): the chart's bundled one is used."
        : app.Database.Workspace.Engine != database.Engine
            ? $"{app.DisplayName} needs {app.Database.Workspace.Engine}; this workspace's database is {database.Engine}: " +
                "the chart's bundled one is used."
        : null;

    private static JsonNode? Fill(JsonNode? node, WorkspaceDatabase database, string name) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, Fill(p.Value, database, name)))),
        JsonArray a => new JsonArray(a.Select(n => Fill(n, database, name)).ToArray()),
        JsonValue v when v.TryGetValue<string>(out var text) => text == "{port:number}" ? JsonValue.Create(database.Port)
            : JsonValue.Create(text.Replace("{host}", database.Host, StringComparison.Ordinal)
                .Replace("{port}", database.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{database}", name, StringComparison.Ordinal)
                .Replace("{user}", name, StringComparison.Ordinal)),
        _ => node?.DeepClone(),
    };
}
