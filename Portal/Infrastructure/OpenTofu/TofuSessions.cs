using Cogrion.Portal.Infrastructure.OpenTofu.AliCloud;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>
/// What one <c>tofu</c> process needs in its environment to act as the tenant: variables, the secret
/// values among them (for the run's redactor), and when they stop working (null: never).
/// </summary>
public sealed record TofuSession(IReadOnlyDictionary<string, string> Environment, IReadOnlyList<string> Secrets, DateTimeOffset? ExpiresAt)
{
    /// <summary>Nothing to add: the root module assumes the role itself (AWS), or nothing is real (sandbox).</summary>
    public static TofuSession None { get; } = new(new Dictionary<string, string>(), [], null);

    public override string ToString() => $"TofuSession {{ Variables = {string.Join(", ", Environment.Keys)}, ExpiresAt = {ExpiresAt:O} }}";
}

/// <summary>
/// Gives each <c>tofu</c> process its session. The runner asks before starting a process and keeps the
/// answer for the rest of the same plan or apply while it has more than
/// <see cref="TofuRunner.SessionRenewalMargin"/> left.
/// </summary>
public interface ITofuSessionSource
{
    /// <summary>Throws <see cref="TofuSessionUnavailableException"/> with the reason in plain words.</summary>
    Task<TofuSession> SessionForAsync(TofuRunRequest request, CancellationToken cancellationToken);
}

public sealed class TofuSessionUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// AliCloud runs get a session of the tenant's role, assumed by the Portal with the external ID, because
/// OpenTofu's oss backend cannot send one (docs/adr/0052). AWS runs need nothing: the S3 backend and the
/// aws provider assume the role with the external ID themselves. The sandbox is simulated.
/// </summary>
public sealed class CloudTofuSessionSource(AliCloudStsClient sts) : ITofuSessionSource
{
    /// <summary>
    /// Other names under which the provider or the backend could find a different identity in the
    /// Portal's environment (TofuProcessCli passes ALICLOUD_* and ALIBABA_CLOUD_* on). Blanked, so the
    /// assumed session is the only identity the process has and it is not assumed a second time.
    /// </summary>
    private static readonly string[] Overridden =
    [
        "ALICLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY_SECRET", "ALICLOUD_ASSUME_ROLE_ARN", "ALICLOUD_ASSUME_ROLE_SESSION_NAME",
        "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN", "ALIBABA_CLOUD_ROLE_ARN",
        "ALICLOUD_PROFILE", "ALIBABA_CLOUD_PROFILE",
    ];

    public async Task<TofuSession> SessionForAsync(TofuRunRequest request, CancellationToken cancellationToken)
    {
        if (request.Provider != TofuProvider.AliCloud) return TofuSession.None;

        AliCloudSession session;
        try
        {
            session = await sts.AssumeRoleAsync(request.Role, cancellationToken);
        }
        catch (AliCloudStsException ex)
        {
            throw new TofuSessionUnavailableException(ex.Message, ex);
        }

        var environment = Overridden.ToDictionary(name => name, _ => "");
        environment[EnvironmentAliCloudPrincipalCredentials.AccessKeyVariable] = session.Credentials.AccessKeyId;
        environment[EnvironmentAliCloudPrincipalCredentials.SecretKeyVariable] = session.Credentials.AccessKeySecret;
        environment[EnvironmentAliCloudPrincipalCredentials.SecurityTokenVariable] = session.Credentials.SecurityToken!;
        environment[EnvironmentAliCloudPrincipalCredentials.RegionVariable] = request.Region;
        return new TofuSession(environment, [session.Credentials.AccessKeySecret, session.Credentials.SecurityToken!], session.Expiration);
    }
}
