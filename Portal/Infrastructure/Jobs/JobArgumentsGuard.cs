using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Portal.Infrastructure.Audit;

namespace Cogrion.Portal.Infrastructure.Jobs;

/// <summary>
/// Keeps secret values out of job arguments, which are stored in plain JSON and shown in the admin
/// console. A key that sounds like a secret (password, token, secret, credential, …: the audit
/// trail's own rule, <see cref="SecretRedactor.IsSecretKey"/>) makes the enqueue fail at once, in the
/// developer's first test run, instead of leaking in production. Pass an id the handler resolves
/// instead (ADR 0011).
/// </summary>
public static class JobArgumentsGuard
{
    public static string Serialize<TArguments>(TArguments arguments) where TArguments : IJobArguments
    {
        var node = JsonSerializer.SerializeToNode(arguments, JobJson.Options)
            ?? throw new JobArgumentsException($"The arguments of a {TArguments.Kind} job must not be null.");
        if (FindSecretKey(node, "$") is { } path)
            throw new JobArgumentsException(
                $"Job arguments must never hold secret values, and '{path}' of a {TArguments.Kind} job looks like one. " +
                "Store a reference (an id) and let the handler fetch what it needs when it runs.");
        return node.ToJsonString();
    }

    /// <summary>The JSON path of the first secret-looking key, or null.</summary>
    public static string? FindSecretKey(JsonNode? node, string path)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    if (SecretRedactor.IsSecretKey(key)) return $"{path}.{key}";
                    if (FindSecretKey(value, $"{path}.{key}") is { } inner) return inner;
                }
                return null;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                    if (FindSecretKey(array[i], $"{path}[{i}]") is { } inner) return inner;
                return null;
            default:
                return null;
        }
    }
}
