using System.Globalization;
using System.Threading.RateLimiting;
using Cogrion.Portal.Infrastructure.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Agents;

/// <summary>
/// Per-agent and per-address limits on the agent API: a token bucket per partition (ADR 0129), so a refusal says to come back
/// when the next permit is (a second or two at the defaults), not when a minute's window ends. The agent keeps its own change
/// reports to a share of the per-agent budget (ADR 0128), so polls, results and heartbeats always have room.
/// </summary>
public static class AgentRateLimits
{
    public const string Agent = "agent-api";
    public const string Anonymous = "agent-api-anonymous";

    /// <summary>
    /// How often the partitioned limiter's one timer replenishes every bucket (the runtime's DefaultPartitionedRateLimiter: 100 ms,
    /// not configurable). A bucket's period ends at the first tick after it is due, so a token can come up to one tick late.
    /// </summary>
    public static readonly TimeSpan ReplenishmentTick = TimeSpan.FromMilliseconds(100);

    public static IServiceCollection AddAgentRateLimits(this IServiceCollection services) =>
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = (context, _) =>
            {
                var seconds = RetryAfterSeconds(context.Lease);
                context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return new ValueTask(ApiProblems.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests,
                    "Too many requests; slow down and retry later.",
                    $"This client has used its calls for now; retry after {seconds} seconds (the Retry-After header)."));
            };
            // One partition per agent (per address before it has an identity). The partitioned limiter keeps a partition only while it
            // is in use: a bucket that has been full for 10 s (the runtime's idle limit) is removed and disposed by the same timer that
            // replenishes, and a new full one is made on the next call. A fleet of 10,000+ agents, or addresses that called once,
            // therefore holds memory only for the callers of the last seconds, and an evicted bucket loses nothing (it was full).
            limiter.AddPolicy(Agent, http =>
            {
                var permits = http.RequestServices.GetRequiredService<IOptions<AgentApiOptions>>().Value.AgentPermitsPerMinute;
                var key = http.User.FindFirst(AgentIdentity.AgentIdClaim)?.Value ?? "ip:" + http.Connection.RemoteIpAddress;
                return RateLimitPartition.GetTokenBucketLimiter(key, _ => Bucket(permits));
            });
            limiter.AddPolicy(Anonymous, http =>
            {
                var permits = http.RequestServices.GetRequiredService<IOptions<AgentApiOptions>>().Value.AnonymousPermitsPerMinute;
                return RateLimitPartition.GetTokenBucketLimiter("ip:" + http.Connection.RemoteIpAddress, _ => Bucket(permits));
            });
        });

    /// <summary>
    /// A bucket that lets <paramref name="permitsPerMinute"/> calls through a minute on average: full at first and after a quiet
    /// spell (<see cref="BurstFor"/>), refilled by whole tokens at least a second apart. The period is the minute's share of
    /// the tokens it adds (2 tokens a second at 120 a minute; one every 4 s at 15), rounded up to a tick so it is never faster.
    /// No queue: a call over the budget is refused at once with when to come back, never held open on the Portal.
    /// </summary>
    public static TokenBucketRateLimiterOptions Bucket(int permitsPerMinute)
    {
        // A second or more per period: a shorter one would not make Retry-After (whole seconds) any earlier, and the 100 ms
        // replenishment tick that can lengthen each period would cost more of the average.
        var tokensPerPeriod = (int)Math.Ceiling(permitsPerMinute / 60.0);
        var periodTicks = (TimeSpan.TicksPerMinute * tokensPerPeriod + permitsPerMinute - 1) / permitsPerMinute;
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = BurstFor(permitsPerMinute),
            TokensPerPeriod = tokensPerPeriod,
            ReplenishmentPeriod = TimeSpan.FromTicks(periodTicks),
            QueueLimit = 0,
            // The partitioned limiter's one timer replenishes every bucket: never a timer per agent.
            AutoReplenishment = false,
        };
    }

    /// <summary>
    /// How many calls may go back to back after a quiet spell: a quarter of the minute's permits (30 at the default 120). That holds
    /// the agent's own worst moment at the defaults (ADR 0128: a burst of 10 change reports, a beat, a poll that delivers a
    /// catch-up and its results), and keeps any 60 seconds at 1.25 times the permit at most (a fixed window allowed 2 times).
    /// </summary>
    public static int BurstFor(int permitsPerMinute) => Math.Max(1, (int)Math.Ceiling(permitsPerMinute / 4.0));

    /// <summary>
    /// Retry-After for a refusal, in whole seconds: the bucket's own figure (its lease's RetryAfter: the time its missing tokens take
    /// to come back, counted in whole periods from now) plus one replenishment tick, rounded up, so the agent is never told to come
    /// back before the token is there. Without the figure (a lease from another limiter): a minute, the longest a bucket takes.
    /// </summary>
    public static int RetryAfterSeconds(RateLimitLease lease)
    {
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter + ReplenishmentTick : TimeSpan.FromMinutes(1);
        return (int)Math.Max(1, Math.Ceiling(wait.TotalSeconds));
    }
}
