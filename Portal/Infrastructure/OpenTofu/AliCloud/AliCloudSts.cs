using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Infrastructure.OpenTofu.AliCloud;

/// <summary>An AliCloud access key, long-lived or temporary (then with its security token).</summary>
public sealed record AliCloudCredentials(string AccessKeyId, string AccessKeySecret, string? SecurityToken)
{
    // The secret parts never reach a log or an exception through ToString.
    public override string ToString() => $"AliCloudCredentials {{ AccessKeyId = {AccessKeyId} }}";
}

/// <summary>A temporary session of a tenant's RAM role, as STS AssumeRole returned it.</summary>
public sealed record AliCloudSession(AliCloudCredentials Credentials, DateTimeOffset Expiration)
{
    public override string ToString() => $"AliCloudSession {{ AccessKeyId = {Credentials.AccessKeyId}, Expiration = {Expiration:O} }}";
}

/// <summary>
/// The Portal's own AliCloud identity (the "Cogrion principal" every tenant's trust policy names):
/// the boundary to the process environment, so tests can give one without touching the real one.
/// </summary>
public interface IAliCloudPrincipalCredentials
{
    /// <summary>The current credentials, read at each call (a rotated key is picked up); null when none are set.</summary>
    AliCloudCredentials? Current();
}

/// <summary>
/// Reads the Portal's process environment under the names the alicloud provider and the oss backend
/// read themselves, so one set of variables configures the Portal however it calls AliCloud.
/// </summary>
public sealed class EnvironmentAliCloudPrincipalCredentials : IAliCloudPrincipalCredentials
{
    public const string AccessKeyVariable = "ALICLOUD_ACCESS_KEY";
    public const string SecretKeyVariable = "ALICLOUD_SECRET_KEY";
    public const string SecurityTokenVariable = "ALICLOUD_SECURITY_TOKEN";
    public const string RegionVariable = "ALICLOUD_REGION";

    public AliCloudCredentials? Current()
    {
        var id = Environment.GetEnvironmentVariable(AccessKeyVariable);
        var secret = Environment.GetEnvironmentVariable(SecretKeyVariable);
        var token = Environment.GetEnvironmentVariable(SecurityTokenVariable);
        return string.IsNullOrWhiteSpace(id) || string.IsNullOrWhiteSpace(secret)
            ? null
            : new AliCloudCredentials(id.Trim(), secret.Trim(), string.IsNullOrWhiteSpace(token) ? null : token.Trim());
    }
}

/// <summary>Why a role could not be assumed, in words an operator can act on. Never holds a secret.</summary>
public sealed class AliCloudStsException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// STS <c>AssumeRole</c> (API version 2015-04-01) with the external ID, signed by hand: one RPC call
/// does not justify an SDK (and none is on our feed). OpenTofu's oss backend cannot send an external
/// ID, so the runner assumes the tenant's role itself and hands the session to <c>tofu</c> (docs/adr/0052).
/// </summary>
public sealed class AliCloudStsClient(
    IHttpClientFactory httpClientFactory,
    IAliCloudPrincipalCredentials principal,
    IOptions<OpenTofuOptions> options,
    TimeProvider time,
    ILogger<AliCloudStsClient> logger)
{
    public const string HttpClientName = "alicloud-sts";
    public const string ApiVersion = "2015-04-01";

    /// <summary>
    /// One hour: the <c>max_session_duration</c> of the role the Portal's snippet creates, and STS's
    /// default. A longer request than the role allows is refused, a shorter one only means more calls.
    /// </summary>
    public const int SessionSeconds = 3600;

    public static string MissingCredentialsMessage =>
        $"The Portal has no AliCloud credentials to assume the tenant's role with: set {EnvironmentAliCloudPrincipalCredentials.AccessKeyVariable} " +
            $"and "
        + $"{EnvironmentAliCloudPrincipalCredentials.SecretKeyVariable} (plus {EnvironmentAliCloudPrincipalCredentials.SecurityTokenVariable} if " +
            $"they are temporary) "
        + "in the Portal's environment, for the RAM identity that the tenants' trust policies name (the Cogrion principal).";

    public async Task<AliCloudSession> AssumeRoleAsync(AssumedRole role, CancellationToken cancellationToken)
    {
        var credentials = principal.Current() ?? throw new AliCloudStsException(MissingCredentialsMessage);
        var endpoint = new Uri(options.Value.AliCloudStsEndpoint.TrimEnd('/') + "/");

        var parameters = new Dictionary<string, string>
        {
            ["Action"] = "AssumeRole",
            ["Version"] = ApiVersion,
            ["Format"] = "JSON",
            ["AccessKeyId"] = credentials.AccessKeyId,
            ["SignatureMethod"] = "HMAC-SHA1",
            ["SignatureVersion"] = "1.0",
            ["SignatureNonce"] = Guid.NewGuid().ToString(),
            ["Timestamp"] = time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["RoleArn"] = role.RoleArn,
            ["RoleSessionName"] = role.SessionName,
            ["ExternalId"] = role.ExternalId,
            ["DurationSeconds"] = SessionSeconds.ToString(CultureInfo.InvariantCulture),
        };
        if (credentials.SecurityToken is { } token) parameters["SecurityToken"] = token;
        parameters["Signature"] = AliCloudRpcSignature.Sign("POST", parameters, credentials.AccessKeySecret);

        // POST with the parameters as a form body (signed with "POST"), so the signature and the
        // Portal's token never sit in a URL that a proxy or an HTTP log might keep.
        var body = string.Join('&',
            parameters.Select(p => AliCloudRpcSignature.PercentEncode(p.Key) + "=" + AliCloudRpcSignature.PercentEncode(p.Value)));
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded"),
        };

        string text;
        HttpStatusCode status;
        try
        {
            using var response = await httpClientFactory.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
            status = response.StatusCode;
            text = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new AliCloudStsException($"AliCloud STS at {endpoint} could not be reached to assume {role.RoleArn}: {ex.Message}", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AliCloudStsException($"AliCloud STS at {endpoint} did not answer in time to assume {role.RoleArn}.", ex);
        }

        if ((int)status is < 200 or > 299)
            throw new AliCloudStsException(Refusal(role, status, text));

        var session = Parse(text)
            ?? throw new AliCloudStsException($"AliCloud STS at {endpoint} answered AssumeRole for {role.RoleArn} without a session (HTTP " +
                $"{(int)status}).");
        logger.LogInformation("Assumed {RoleArn} as session {SessionName} until {Expiration} (STS request {RequestId})",
            role.RoleArn, role.SessionName, session.Expiration, RequestId(text));
        return session;
    }

    private static AliCloudSession? Parse(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            if (!document.RootElement.TryGetProperty("Credentials", out var c) || c.ValueKind != JsonValueKind.Object) return null;
            var id = String(c, "AccessKeyId");
            var secret = String(c, "AccessKeySecret");
            var token = String(c, "SecurityToken");
            var expiration = String(c, "Expiration");
            if (id is null || secret is null || token is null || expiration is null) return null;
            if (!DateTimeOffset.TryParse(expiration, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
                out var expires))
                return null;
            return new AliCloudSession(new AliCloudCredentials(id, secret, token), expires);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// AliCloud's error document is <c>{"RequestId", "HostId", "Code", "Message", "Recommend"}</c>. The
    /// remedy depends on whose side is wrong: the Portal's own key, or the tenant's role and trust policy.
    /// </summary>
    private static string Refusal(AssumedRole role, HttpStatusCode status, string text)
    {
        string? code = null, message = null, requestId = null;
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                code = String(document.RootElement, "Code");
                message = String(document.RootElement, "Message");
                requestId = String(document.RootElement, "RequestId");
            }
        }
        catch (JsonException) { /* Not AliCloud's format (a proxy's page): the status says enough. */ }

        var cause = code is null ? $"HTTP {(int)status}" : $"{code}: {message?.TrimEnd('.')}";
        var remedy = code is not null && (code.StartsWith("InvalidAccessKeyId", StringComparison.Ordinal)
                                          || code.StartsWith("SignatureDoesNotMatch", StringComparison.Ordinal)
                                          || code.StartsWith("InvalidSecurityToken", StringComparison.Ordinal)
                                          || code.StartsWith("IncompleteSignature", StringComparison.Ordinal))
            ? $"Check the Portal's own AliCloud key ({EnvironmentAliCloudPrincipalCredentials.AccessKeyVariable}, " +
                $"{EnvironmentAliCloudPrincipalCredentials.SecretKeyVariable}, {EnvironmentAliCloudPrincipalCredentials.SecurityTokenVariable})."
            : $"Check that the role's trust policy allows the Cogrion principal with the external ID {role.ExternalId}, and that the principal may " +
                $"call sts:AssumeRole.";
        return $"AliCloud STS refused to assume {role.RoleArn}: {cause}{(requestId is null ? "" : $" (request {requestId})")}. {remedy}";
    }

    private static string? RequestId(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return String(document.RootElement, "RequestId");
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString() : null;
}
