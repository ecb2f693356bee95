using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Cogrion.Portal.Infrastructure.Authentication;

/// <summary>
/// The realm as the OpenID Connect handler knows it (discovery document and signing keys, cached and
/// refreshed by the handler's own configuration manager), for the two tokens the handler does not
/// see itself: the id_token of a refresh, and a back-channel logout token. Both are validated by the
/// handler's token handler with the handler's own validation parameters (signature against the
/// realm's keys, issuer, audience, lifetime); no token is parsed by hand.
/// </summary>
public sealed class RealmTokens(IOptionsMonitor<OpenIdConnectOptions> oidcOptions, ILogger<RealmTokens> logger)
{
    private OpenIdConnectOptions Options => oidcOptions.Get(AuthenticationServiceCollectionExtensions.KeycloakScheme);

    public Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancellationToken) =>
        Options.ConfigurationManager!.GetConfigurationAsync(cancellationToken);

    /// <summary>
    /// Validates a JWT the realm signed for this client. When its key is unknown, the realm may have
    /// rotated its keys: the configuration is fetched again (no more often than the configured
    /// interval) and the token checked once more.
    /// </summary>
    public async Task<TokenValidationResult> ValidateAsync(string token, Action<TokenValidationParameters>? adjust,
        CancellationToken cancellationToken)
    {
        var result = await ValidateOnceAsync(token, adjust, cancellationToken);
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            logger.LogInformation("A token from the realm names a signing key not seen yet; fetching the realm's keys again");
            Options.ConfigurationManager!.RequestRefresh();
            result = await ValidateOnceAsync(token, adjust, cancellationToken);
        }
        return result;
    }

    private async Task<TokenValidationResult> ValidateOnceAsync(string token, Action<TokenValidationParameters>? adjust,
        CancellationToken cancellationToken)
    {
        var options = Options;
        var configuration = await GetConfigurationAsync(cancellationToken);
        var parameters = options.TokenValidationParameters.Clone();
        parameters.ValidIssuer = configuration.Issuer;
        parameters.ValidAudience = options.ClientId;
        parameters.IssuerSigningKeys = configuration.SigningKeys;
        parameters.ValidateIssuerSigningKey = true;
        parameters.RequireSignedTokens = true;
        adjust?.Invoke(parameters);
        return await new JsonWebTokenHandler { MapInboundClaims = false }.ValidateTokenAsync(token, parameters);
    }
}
