using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>
/// Writes the root module of a run: <c>main.tf.json</c> calling the workspace's module,
/// <c>backend.tf.json</c> (state in the tenant's bucket) and <c>providers.tf.json</c> (the tenant's role,
/// assumed with its external ID: by OpenTofu for AWS, by the runner for AliCloud). JSON rather than
/// HCL because we generate it: no quoting rules to get wrong, and OpenTofu reads both the same way.
/// </summary>
public static class RootModuleWriter
{
    /// <summary>The module block's name: every resource address of a run starts with <c>module.stack.</c>.</summary>
    public const string ModuleName = "stack";

    public const string MainFile = "main.tf.json";
    public const string BackendFile = "backend.tf.json";
    public const string ProvidersFile = "providers.tf.json";

    /// <summary>The only file that holds secret inputs; deleted as soon as the plan is written.</summary>
    public const string SensitiveVariablesFile = "sensitive.tfvars.json";

    public const string PlanFile = "plan.tfplan";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task WriteAsync(TofuRunRequest request, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(request.WorkingDirectory);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(request.WorkingDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        await WriteJsonAsync(request.WorkingDirectory, MainFile, MainModule(request), cancellationToken);
        await WriteBackendAsync(request.WorkingDirectory, request.Backend, cancellationToken);
        await WriteJsonAsync(request.WorkingDirectory, ProvidersFile, Providers(request), cancellationToken);
        if (request.SensitiveVariables.Count > 0)
            await WriteJsonAsync(request.WorkingDirectory, SensitiveVariablesFile, request.SensitiveVariables.DeepClone(), cancellationToken);
    }

    /// <summary>(Re)writes only the backend: a state migration changes where the state lives and nothing else.</summary>
    public static Task WriteBackendAsync(string workingDirectory, TofuBackend backend, CancellationToken cancellationToken) =>
        WriteJsonAsync(workingDirectory, BackendFile, Backend(backend), cancellationToken);

    /// <summary>Where a backend keeps the state, in the words a log line uses.</summary>
    public static string Describe(TofuBackend backend) => backend switch
    {
        S3Backend s3 => $"s3://{s3.Bucket}/{s3.Key}",
        OssBackend oss => $"oss://{oss.Bucket}/{oss.Prefix}/{oss.Key}",
        LocalBackend local => $"the local file {local.Path}",
        _ => backend.GetType().Name,
    };

    public static JsonObject MainModule(TofuRunRequest request)
    {
        var module = new JsonObject { ["source"] = LocalModuleSource(request.WorkingDirectory, request.ModuleSource) };
        foreach (var (name, value) in request.Variables)
            module[name] = EscapeTemplates(value);

        var variables = new JsonObject();
        foreach (var (name, _) in request.SensitiveVariables)
        {
            // Declared at the root and passed by reference, so the value itself is never in this file.
            variables[name] = new JsonObject { ["sensitive"] = true, ["nullable"] = false };
            module[name] = $"${{var.{name}}}";
        }

        var outputs = new JsonObject();
        foreach (var output in request.Outputs)
        {
            var declaration = new JsonObject { ["value"] = $"${{module.{ModuleName}.{output.Name}}}" };
            if (output.Sensitive) declaration["sensitive"] = true;
            outputs[output.Name] = declaration;
        }

        var root = new JsonObject();
        if (variables.Count > 0) root["variable"] = variables;
        root["module"] = new JsonObject { [ModuleName] = module };
        if (outputs.Count > 0) root["output"] = outputs;
        return root;
    }

    public static JsonObject Backend(TofuBackend backend)
    {
        JsonObject block = backend switch
        {
            S3Backend s3 => new JsonObject
            {
                ["s3"] = new JsonObject
                {
                    ["bucket"] = s3.Bucket,
                    ["key"] = s3.Key,
                    ["region"] = s3.Region,
                    ["encrypt"] = true,
                    ["use_lockfile"] = true,
                    ["assume_role"] = RoleBlock(s3.Role),
                },
            },
            OssBackend oss => new JsonObject
            {
                ["oss"] = new JsonObject
                {
                    ["bucket"] = oss.Bucket,
                    ["prefix"] = oss.Prefix,
                    ["key"] = oss.Key,
                    ["region"] = oss.Region,
                    ["encrypt"] = true,
                    ["tablestore_endpoint"] = oss.TablestoreEndpoint,
                    ["tablestore_table"] = oss.TablestoreTable,
                    // No assume_role_* arguments: the backend's own AssumeRole cannot send the external ID
                    // that the tenant's trust policy requires, so the runner assumes the role and passes
                    // the session as ALICLOUD_ACCESS_KEY/SECRET_KEY/SECURITY_TOKEN (docs/adr/0050, 0052).
                },
            },
            LocalBackend local => new JsonObject { ["local"] = new JsonObject { ["path"] = local.Path } },
            _ => throw new ArgumentOutOfRangeException(nameof(backend), backend.GetType().Name, "Unknown backend."),
        };
        return new JsonObject { ["terraform"] = new JsonObject { ["backend"] = block } };
    }

    public static JsonObject Providers(TofuRunRequest request)
    {
        var provider = request.Provider switch
        {
            // The sandbox simulates the AWS stack, so its root module is the AWS one, role and all.
            TofuProvider.Aws or TofuProvider.Sandbox => new JsonObject
            {
                ["aws"] = new JsonObject
                {
                    ["region"] = request.Region,
                    ["assume_role"] = RoleBlock(request.Role),
                },
            },
            // The provider uses the session the runner assumed (with the external ID) from the process
            // environment, like the oss backend must: one identity for state and resources (docs/adr/0052).
            TofuProvider.AliCloud => new JsonObject
            {
                ["alicloud"] = new JsonObject
                {
                    ["region"] = request.Region,
                },
            },
            _ => throw new ArgumentOutOfRangeException(nameof(request), request.Provider, "Unknown provider."),
        };
        return new JsonObject { ["provider"] = provider };
    }

    private static JsonObject RoleBlock(AssumedRole role) => new()
    {
        ["role_arn"] = role.RoleArn,
        ["external_id"] = role.ExternalId,
        ["session_name"] = role.SessionName,
    };

    /// <summary>
    /// OpenTofu only accepts local module sources that start with ./ or ../; anything else is fetched
    /// as a remote package.
    /// </summary>
    public static string LocalModuleSource(string workingDirectory, string moduleSource)
    {
        var relative = Path.GetRelativePath(Path.GetFullPath(workingDirectory), Path.GetFullPath(moduleSource)).Replace('\\', '/');
        return relative.StartsWith("../", StringComparison.Ordinal) || relative == ".." ? relative : "./" + relative;
    }

    /// <summary>
    /// In OpenTofu's JSON syntax every string is a template: a workspace input containing <c>${</c> or
    /// <c>%{</c> would be evaluated as an expression. Doubling the introducer makes it literal.
    /// </summary>
    public static JsonNode? EscapeTemplates(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, EscapeTemplates(p.Value)))),
        JsonArray array => new JsonArray(array.Select(EscapeTemplates).ToArray()),
        JsonValue value when value.GetValueKind() == JsonValueKind.String =>
            JsonValue.Create(value.GetValue<string>().Replace("${", "$${", StringComparison.Ordinal).Replace("%{", "%%{", StringComparison.Ordinal)),
        _ => node?.DeepClone(),
    };

    private static async Task WriteJsonAsync(string directory, string fileName, JsonNode content, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, fileName);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        // Owner-only from the moment the file exists: the variables file holds secrets.
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using var stream = new FileStream(path, options);
        await JsonSerializer.SerializeAsync(stream, content, Indented, cancellationToken);
    }
}
