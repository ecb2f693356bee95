using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cogrion.Agent.Protocol;

/// <summary>
/// Renders terraform/modules/cluster-agent/install.yaml.tftpl exactly as OpenTofu's
/// <c>templatefile()</c> renders it in the module, for the two other readers of the one install: the
/// Portal's kubectl manifest and the sandbox's simulated <c>tofu apply</c>. The template keeps to the
/// part of the template language both sides implement: <c>${name}</c> interpolations of the
/// variables below, <c>$${</c> for a literal <c>${</c>, and no directives. Values are JSON-encoded
/// first (the module passes <c>jsonencode(...)</c>), which YAML reads as quoted strings.
/// </summary>
public static partial class InstallTemplate
{
    public const string FileName = "install.yaml.tftpl";

    /// <summary>The template's variables, as the module's templatefile() call names them.</summary>
    public static readonly IReadOnlyList<string> Variables = ["tenant_id", "workspace_id", "image", "portal_url", "bootstrap_token"];

    [GeneratedRegex(@"(\$\$\{)|(%%\{)|\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}|(\$\{)|(%\{)")]
    private static partial Regex Token();

    /// <summary>
    /// The rendered YAML. Like templatefile(), a variable the template uses but the values lack is an
    /// error, and so is any expression or directive beyond a plain variable.
    /// </summary>
    public static string Render(string template, IReadOnlyDictionary<string, string> values) =>
        Token().Replace(template, match =>
        {
            if (match.Groups[1].Success) return "${";
            if (match.Groups[2].Success) return "%{";
            if (match.Groups[3].Success)
            {
                var name = match.Groups[3].Value;
                if (!values.TryGetValue(name, out var value))
                    throw new InvalidOperationException($"Invalid template interpolation value: vars map does not contain key \"{name}\" " +
                        $"({FileName}).");
                return JsonSerializer.Serialize(value, ProtocolJson.Default.String);
            }
            throw new InvalidOperationException($"{FileName} may use only ${{name}} interpolations; '{match.Value}' at offset {match.Index} is an " +
                $"expression or directive the Portal does not render.");
        });

    /// <summary>The template's values for one cluster.</summary>
    public static Dictionary<string, string> Values(Guid tenantId, Guid workspaceId, string image, string portalUrl, string bootstrapToken) => new()
    {
        ["tenant_id"] = tenantId.ToString(),
        ["workspace_id"] = workspaceId.ToString(),
        ["image"] = image,
        ["portal_url"] = portalUrl,
        ["bootstrap_token"] = bootstrapToken,
    };

    /// <summary>The documents of a rendered template, split where a line is exactly "---" (as the module splits them).</summary>
    public static IReadOnlyList<string> SplitDocuments(string rendered)
    {
        var documents = new List<string>();
        var current = new StringBuilder();
        foreach (var line in rendered.Replace("\r\n", "\n").Split('\n'))
        {
            if (line == "---")
            {
                documents.Add(current.ToString());
                current.Clear();
            }
            else current.Append(line).Append('\n');
        }
        documents.Add(current.ToString());
        return documents.Where(d => d.Split('\n').Any(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('#'))).ToList();
    }
}
