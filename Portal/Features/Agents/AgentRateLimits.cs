using System.Threading.RateLimiting;
using Cogrion.Portal.Infrastructure.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Agents;

/// <summary>
/// Per-agent and per-address limits on the agent API. Windows are replenished by the partitioned
/// limiter's own timer (AutoReplenishment off), not one timer per agent: there are 10,000 agents.
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
                context.HttpContext.Response.Headers.RetryAfter = "30";
                return new ValueTask(ApiProblems.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests,
                    "Too many requests; slow down and retry later.", "Retry after a random delay of 15 to 30 seconds."));
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

    private static FixedWindowRateLimiterOptions Window(int permits) => new()
    {
        PermitLimit = permits,
        Window = TimeSpan.FromMinutes(1),
        QueueLimit = 0,
        AutoReplenishment = false,
    };
}
