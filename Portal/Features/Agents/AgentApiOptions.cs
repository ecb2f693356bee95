using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Infrastructure.Configuration;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Agents;

/// <summary>The Portal's side of the agent protocol (section "Agents"; documented in appsettings.sample.json).</summary>
public sealed class AgentApiOptions
{
    public const string Section = "Agents";

    /// <summary>The Portal's URL as agents reach it (behind a proxy it differs from the request's host). Empty: taken from the request.</summary>
    public string? PublicUrl { get; set; }

    public TimeSpan BootstrapTokenLifetime { get; set; } = TimeSpan.FromHours(1);
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(10);
    public TimeSpan LongPollTimeout { get; set; } = TimeSpan.FromSeconds(50);
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>An agent not heard from for this long shows as offline (three missed heartbeats by default).</summary>
    public TimeSpan OfflineAfter { get; set; } = TimeSpan.FromSeconds(90);
    public TimeSpan DefaultCommandLifetime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>PKCS#8 PEM of the command-signing ECDSA P-256 key. Empty: generated once and kept in the database, protected by Data
    /// Protection.</summary>
    public string? CommandSigningKey { get; set; }

    /// <summary>
    /// The agent image this Portal installs (the manifest, the OpenTofu module) and upgrades agents to.
    /// Pinned by version, optionally by digest; never "latest". Default: the agent of the Portal's own version.
    /// </summary>
    public string AgentImage { get; set; } = Versions.AgentRelease.DefaultImage;

    /// <summary>How long an upgraded agent's new pod may take to become ready before the agent rolls back.</summary>
    public TimeSpan UpgradeReadyWithin { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Requests a minute per agent on the authenticated agent endpoints, on average: a token bucket that holds a quarter of them
    /// back to back (<see cref="AgentRateLimits"/>, ADR 0129).
    /// </summary>
    public int AgentPermitsPerMinute { get; set; } = 120;
    /// <summary>Requests a minute per client address on registration and token (no agent identity yet), as a bucket like the agents'.</summary>
    public int AnonymousPermitsPerMinute { get; set; } = 300;
}

public sealed class AgentApiOptionsValidator : IValidateOptions<AgentApiOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentApiOptions options)
    {
        var errors = new ValidationErrors(AgentApiOptions.Section);
        if (!string.IsNullOrWhiteSpace(options.PublicUrl)) errors.RequireAbsoluteUrl(nameof(options.PublicUrl), options.PublicUrl,
            requireHttps: false);
        Positive(errors, nameof(options.BootstrapTokenLifetime), options.BootstrapTokenLifetime, TimeSpan.FromDays(1));
        Positive(errors, nameof(options.AccessTokenLifetime), options.AccessTokenLifetime, TimeSpan.FromHours(1));
        Positive(errors, nameof(options.LongPollTimeout), options.LongPollTimeout, TimeSpan.FromSeconds(100));
        Positive(errors, nameof(options.HeartbeatInterval), options.HeartbeatInterval, TimeSpan.FromMinutes(10));
        Positive(errors, nameof(options.DefaultCommandLifetime), options.DefaultCommandLifetime, TimeSpan.FromDays(30));
        if (options.OfflineAfter <= options.HeartbeatInterval)
            errors.Add(nameof(options.OfflineAfter), "must be longer than HeartbeatInterval, or every agent would flicker offline between beats.");
        if (!Cogrion.Agent.Protocol.AgentImage.TryParse(options.AgentImage, out _))
            errors.Add(nameof(options.AgentImage), $"must be {Cogrion.Agent.Protocol.AgentImage.Rule}; '{options.AgentImage}' is not.");
        Positive(errors, nameof(options.UpgradeReadyWithin), options.UpgradeReadyWithin, TimeSpan.FromHours(1));
        if (options.AgentPermitsPerMinute < 1) errors.Add(nameof(options.AgentPermitsPerMinute), "must be at least 1.");
        if (options.AnonymousPermitsPerMinute < 1) errors.Add(nameof(options.AnonymousPermitsPerMinute), "must be at least 1.");
        if (!string.IsNullOrWhiteSpace(options.CommandSigningKey) && !CommandSigningKeyStore.TryParsePem(options.CommandSigningKey, out _))
            errors.Add(nameof(options.CommandSigningKey),
                "must be an ECDSA P-256 private key in PKCS#8 PEM (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256).");
        return errors.ToResult();
    }

    private static void Positive(ValidationErrors errors, string key, TimeSpan value, TimeSpan max)
    {
        if (value <= TimeSpan.Zero || value > max) errors.Add(key, $"must be more than zero and at most {max}.");
    }
}
