namespace Cogrion.Agent.Protocol;

/// <summary>The Portal answered with an error; <see cref="IsTransient"/> says whether retrying later may help.</summary>
public class PortalException(int statusCode, string message, string? problemType = null, Exception? inner = null, TimeSpan? retryAfter = null)
    : Exception(message, inner)
{
    /// <summary>0 when the Portal could not be reached at all.</summary>
    public int StatusCode { get; } = statusCode;
    public string? ProblemType { get; } = problemType;

    /// <summary>On 429 (or 503), how long the Portal asked the agent to wait (its Retry-After), when it said.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    public bool IsTransient => StatusCode is 0 or 408 or 429 or >= 500;
}

/// <summary>The Portal revoked (or uninstalled) this agent: stop, and never call again.</summary>
public sealed class AgentRevokedException(string reason) : PortalException(401, reason, ProblemTypes.AgentRevoked);

/// <summary>The bootstrap token was refused: a new one must be minted; retrying cannot help.</summary>
public sealed class RegistrationRefusedException(string reason) : PortalException(401, reason, ProblemTypes.InvalidBootstrapToken);
