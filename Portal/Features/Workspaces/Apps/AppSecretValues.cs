using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Secrets;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>
/// The secret values of an install or upgrade: each one sealed in the browser (or by <c>seal</c>) to the workspace
/// agent's key, for the Secret of its field (<see cref="CatalogApp.SecretFields"/>) in the app's namespace, and relayed
/// through the secrets channel (<see cref="SecretRelay"/>, docs/secrets.md). The catalog never holds a value: it
/// checks the sealed metadata, hands the ciphertext to the relay, and references each Secret from the HelmRelease.
/// </summary>
public sealed class AppSecretValues(SecretRelay relay, ILogger<AppSecretValues> logger)
{
    /// <summary>Every problem with the sealed values, on the field they belong to (<c>values.&lt;path&gt;</c>); nothing is stored.</summary>
    public async Task<FieldErrors> CheckAsync(Guid tenantId, Guid workspaceId, CatalogApp app, IReadOnlyList<SealedSecret> secrets,
        CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var secret in secrets)
        {
            if (secret?.Namespace != app.Id || app.SecretFieldBySecretName(secret.Name) is not { } field)
            {
                errors.Add("secrets",
                    $"Each sealed value must be for the Secret of one of {app.DisplayName}'s secret fields in namespace {app.Id} (" +
                    string.Join(", ", app.SecretFields.Select(f => f.SecretName)) + ").");
                continue;
            }
            var name = AppValues.Field(field.Path);
            if (!seen.Add(field.Path)) errors.Add(name, $"{field.Path} is given twice.");
            if (secret.Values is not [{ Key: CatalogApp.SecretKey }])
                errors.Add(name, $"{field.Path} must be sealed as one value under the key '{CatalogApp.SecretKey}'.");
            foreach (var (_, messages) in (await relay.CheckAsync(tenantId, workspaceId, secret, cancellationToken)).ToDictionary())
                foreach (var message in messages) errors.Add(name, $"{field.Path}: {message}");
        }
        return errors;
    }

    /// <summary>The value paths the sealed values are for, to reference from the HelmRelease.</summary>
    public static IReadOnlyList<string> Paths(CatalogApp app, IReadOnlyList<SealedSecret> secrets) =>
        secrets.Select(s => app.SecretFieldBySecretName(s.Name)?.Path).OfType<string>().ToList();

    /// <summary>
    /// Relays each sealed value (after the namespace command, before the release's, so the agent writes the Secret
    /// first). A refusal here is a race the check could not see (another change in between); it is logged and shown
    /// on the Secrets page, and the release reports the missing Secret as Flux would.
    /// </summary>
    public async Task DeliverAsync(Guid tenantId, Guid workspaceId, IReadOnlyList<SealedSecret> secrets, Actor actor,
        CancellationToken cancellationToken)
    {
        foreach (var secret in secrets)
        {
            var result = await relay.SubmitAsync(tenantId, workspaceId, secret, actor, cancellationToken);
            if (!result.Succeeded)
                logger.LogWarning("Secret {Namespace}/{Name} version {Version} was not relayed: {Problems}", secret.Namespace, secret.Name,
                    secret.Version, string.Join(" ", result.Errors.ToDictionary().SelectMany(e => e.Value)));
        }
    }
}
