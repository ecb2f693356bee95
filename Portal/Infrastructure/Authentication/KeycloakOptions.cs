using Cogrion.Portal.Infrastructure.Configuration;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Infrastructure.Authentication;

/// <summary>Where the Keycloak realm is and how the Portal is registered in it.</summary>
public sealed class KeycloakOptions
{
    public const string Section = "Keycloak";

    /// <summary>Keycloak's base URL, e.g. https://id.cogrion.example (the realm path is added from <see cref="Realm"/>).</summary>
    public string Authority { get; set; } = "";

    public string Realm { get; set; } = "cogrion";

    public string ClientId { get; set; } = "cogrion-portal";

    /// <summary>The confidential client's secret. Supply it through an environment variable or a secret store, never a committed file.</summary>
    public string ClientSecret { get; set; } = "";

    /// <summary>False only for a local identity provider on plain http.</summary>
    public bool RequireHttps { get; set; } = true;

    /// <summary>The realm role (or a role of this client) that makes a user a platform admin.</summary>
    public string PlatformAdminRole { get; set; } = "platform-admin";

    /// <summary>How long before the access token expires the session refreshes it.</summary>
    public TimeSpan RefreshBeforeExpiry { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Tolerated clock difference with the identity provider when checking token times.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The shortest time between two fetches of the realm's discovery document and keys when a token
    /// names a key the Portal does not know yet (the realm rotated its keys). Keeps a flood of forged
    /// tokens from turning into a flood of requests to Keycloak.
    /// </summary>
    public TimeSpan KeySetRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How old a back-channel logout token may be (by its iat) and still be acted on.</summary>
    public TimeSpan LogoutTokenMaxAge { get; set; } = TimeSpan.FromMinutes(5);

    public string RealmUrl => $"{Authority.TrimEnd('/')}/realms/{Realm}";
}

public sealed class KeycloakOptionsValidator : IValidateOptions<KeycloakOptions>
{
    /// <summary>The placeholder in appsettings.sample.json: starting with it means the secret was never set.</summary>
    public const string SamplePlaceholder = "set-through-the-Keycloak__ClientSecret-environment-variable";

    public ValidateOptionsResult Validate(string? name, KeycloakOptions options)
    {
        var errors = new ValidationErrors(KeycloakOptions.Section);
        errors.RequireAbsoluteUrl(nameof(options.Authority), options.Authority, options.RequireHttps);
        if (string.IsNullOrWhiteSpace(options.Realm) || options.Realm.Contains('/'))
            errors.Add(nameof(options.Realm), "is required and may not contain '/'.");
        errors.RequireText(nameof(options.ClientId), options.ClientId);
        if (string.IsNullOrWhiteSpace(options.ClientSecret) || options.ClientSecret == SamplePlaceholder)
            errors.Add(nameof(options.ClientSecret), "is required; set it through the Keycloak__ClientSecret environment variable.");
        errors.RequireText(nameof(options.PlatformAdminRole), options.PlatformAdminRole);
        if (options.RefreshBeforeExpiry < TimeSpan.Zero || options.RefreshBeforeExpiry > TimeSpan.FromMinutes(30))
            errors.Add(nameof(options.RefreshBeforeExpiry), "must be between 00:00:00 and 00:30:00.");
        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromMinutes(5))
            errors.Add(nameof(options.ClockSkew), "must be between 00:00:00 and 00:05:00.");
        if (options.KeySetRefreshInterval < TimeSpan.FromSeconds(1) || options.KeySetRefreshInterval > TimeSpan.FromHours(24))
            errors.Add(nameof(options.KeySetRefreshInterval), "must be between 00:00:01 and 1.00:00:00.");
        if (options.LogoutTokenMaxAge < TimeSpan.FromSeconds(10) || options.LogoutTokenMaxAge > TimeSpan.FromHours(1))
            errors.Add(nameof(options.LogoutTokenMaxAge), "must be between 00:00:10 and 01:00:00.");
        return errors.ToResult();
    }
}
