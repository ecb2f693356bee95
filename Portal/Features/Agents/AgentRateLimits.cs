using System.Globalization;
using System.Threading.RateLimiting;
using Cogrion.Portal.Infrastructure.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Agents;

/// <summary>
/// Per-agent and per-address limits on the agent API. Windows are replenished by the partitioned
/// limiter's own timer (AutoReplenishment off), not one timer per agent: there are 10,000 agents.
/// A refusal says when to come back (Retry-After); the agent keeps its own change reports to a share of
/// the per-agent budget (ADR 0128), so polls, results and heartbeats always have room.
/// </summary>
public static class AgentRateLimits
{
    public const string Agent = "agent-api";
    public const string Anonymous = "agent-api-anonymous";

    public static IServiceCollection AddAgentRateLimits(this IServiceCollection services) =>
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = (context, _) =>
            {
                // The limiter's own word on when a permit is back (a fixed window says its length: later than needed, never
                // earlier); the agent holds every call until then (docs/agent-protocol.md, "Rate limits").
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : WindowLength;
                var seconds = (int)Math.Clamp(Math.Ceiling(retryAfter.TotalSeconds), 1, WindowLength.TotalSeconds);
                context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return new ValueTask(ApiProblems.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests,
                    "Too many requests; slow down and retry later.",
                    $"This client used its calls for this minute; retry after {seconds} seconds (the Retry-After header)."));
            };
            limiter.AddPolicy(Agent, http =>
            {
                var permits = http.RequestServices.GetRequiredService<IOptions<AgentApiOptions>>().Value.AgentPermitsPerMinute;
                var key = http.User.FindFirst(AgentIdentity.AgentIdClaim)?.Value ?? "ip:" + http.Connection.RemoteIpAddress;
                return RateLimitPartition.GetFixedWindowLimiter(key, _ => Window(permits));
            });
            limiter.AddPolicy(Anonymous, http =>
            {
                var permits = http.RequestServices.GetRequiredService<IOptions<AgentApiOptions>>().Value.AnonymousPermitsPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter("ip:" + http.Connection.RemoteIpAddress, _ => Window(permits));
            });
        });

    private static readonly TimeSpan WindowLength = TimeSpan.FromMinutes(1);

    private static FixedWindowRateLimiterOptions Window(int permits) => new()
    {
        PermitLimit = permits,
        Window = WindowLength,
        QueueLimit = 0,
        AutoReplenishment = false,
    };
}
