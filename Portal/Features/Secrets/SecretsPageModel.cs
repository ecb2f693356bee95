using System.Text.Json;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.Secrets;

/// <summary>What the Secrets page shows for one workspace.</summary>
public sealed record SecretsView(Guid WorkspaceId, IReadOnlyList<WorkspaceSecret> Secrets, EncryptionKeyOffer? Offer);

/// <summary>
/// The Secrets page's work, testable without a browser: load, submit what the browser module sealed,
/// delete. The page passes only ciphertext here; it never sees a value.
/// </summary>
public sealed class SecretsPageModel(WorkspaceSecretsDirectory workspaces, SecretRelay relay, EncryptionKeyDirectory keys)
{
    public async Task<SecretsView?> LoadAsync(Guid tenantId, string workspaceName, CancellationToken cancellationToken)
    {
        if (await workspaces.FindAsync(tenantId, workspaceName, cancellationToken) is not { } workspaceId) return null;
        return new SecretsView(workspaceId, await relay.ListAsync(tenantId, workspaceId, cancellationToken),
            await keys.OfferAsync(tenantId, workspaceId, cancellationToken));
    }

    /// <summary>The next version for a secret: one more than the last, or 1 for a new one.</summary>
    public static long NextVersion(IReadOnlyList<WorkspaceSecret> secrets, string @namespace, string name) =>
        (secrets.FirstOrDefault(s => s.Namespace == @namespace && s.Name == name)?.Version ?? 0) + 1;

    /// <summary>Checks the fields of the form before the browser seals anything: every key valid, and each once.</summary>
    public static FieldErrors ValidateForm(string? @namespace, string? name, IReadOnlyList<string?> keys)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(@namespace) || !System.Text.RegularExpressions.Regex.IsMatch(@namespace,
            "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"))
            errors.Add("namespace", "The app's namespace: lower-case letters, digits and '-'.");
        if (string.IsNullOrWhiteSpace(name) || !SealedSecrets.SecretName().IsMatch(name))
            errors.Add("name", "Lower-case letters, digits, '-' and '.'.");
        for (var i = 0; i < keys.Count; i++)
            if (string.IsNullOrWhiteSpace(keys[i]) || !SealedSecrets.DataKey().IsMatch(keys[i]!))
                errors.Add(KeyField(i), "Letters, digits, '-', '_' and '.'.");
        if (keys.Where(k => !string.IsNullOrWhiteSpace(k)).GroupBy(k => k, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            errors.Add("keys", $"The key {twice.Key} is given twice: each key once.");
        return errors;
    }

    /// <summary>The form's name for the i-th key (the first is "key", the next "key2", ...).</summary>
    public static string KeyField(int index) => index == 0 ? "key" : $"key{index + 1}";

    public async Task<CommandResult<WorkspaceSecret>> SubmitAsync(Guid tenantId, Guid workspaceId, string sealedJson, Actor actor,
        CancellationToken cancellationToken)
    {
        SealedSecret? sealedSecret;
        try
        {
            sealedSecret = JsonSerializer.Deserialize(sealedJson, ProtocolJson.Default.SealedSecret);
        }
        catch (JsonException)
        {
            return CommandResult<WorkspaceSecret>.Invalid("body", "The browser produced no valid sealed secret.");
        }
        return await relay.SubmitAsync(tenantId, workspaceId, sealedSecret, actor, cancellationToken);
    }

    public Task<CommandResult<WorkspaceSecret>> DeleteAsync(Guid tenantId, Guid workspaceId, Guid secretId, Actor actor,
        CancellationToken cancellationToken) =>
        relay.DeleteAsync(tenantId, workspaceId, secretId, actor, cancellationToken);
}

/// <summary>
/// The browser module's script tag: its URL and its Subresource Integrity hash (SHA-384 of the file as
/// served), so a changed file does not run. Computed once from the web root.
/// </summary>
public sealed class SecretsScript(IWebHostEnvironment environment)
{
    public const string Path = "js/secrets.js";

    private readonly Lazy<string> integrity = new(() =>
    {
        var file = environment.WebRootFileProvider.GetFileInfo(Path);
        using var stream = file.CreateReadStream();
        return "sha384-" + Convert.ToBase64String(System.Security.Cryptography.SHA384.HashData(stream));
    });

    public string Integrity => integrity.Value;
}
