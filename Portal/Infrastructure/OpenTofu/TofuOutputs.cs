using System.Text.Json;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>
/// The root module's outputs after an apply (<c>tofu output -json</c>). Plain outputs keep their value;
/// sensitive ones keep only their name: the Portal holds metadata, and a kubeconfig or a password is not that.
/// </summary>
public sealed record TofuOutputs(IReadOnlyDictionary<string, JsonElement> Values, IReadOnlyList<string> SensitiveNames)
{
    public static TofuOutputs Empty { get; } = new(new Dictionary<string, JsonElement>(), []);

    public static TofuOutputs Parse(string outputJson)
    {
        using var document = JsonDocument.Parse(outputJson);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new JsonException("tofu output -json did not print an object.");

        var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var sensitive = new List<string>();
        foreach (var output in document.RootElement.EnumerateObject())
        {
            if (output.Value.TryGetProperty("sensitive", out var s) && s.ValueKind != JsonValueKind.False)
                sensitive.Add(output.Name);
            else if (output.Value.TryGetProperty("value", out var value))
                values[output.Name] = value.Clone();
        }
        return new TofuOutputs(values, sensitive);
    }
}
