using Microsoft.Extensions.Options;

namespace Cogrion.Agent.Runtime;

/// <summary>
/// The delay after the n-th error in a row: random within 15–30 s, then within 30–60 s from the
/// fifth on (configurable). Random, so that when all agents lose the Portal at once (a deploy, an
/// outage) they come back spread out instead of in one wave.
/// </summary>
public sealed class Backoff(IOptions<AgentOptions> options)
{
    public TimeSpan DelayAfter(int consecutiveErrors)
    {
        var retry = options.Value.Retry;
        var (min, max) = consecutiveErrors >= retry.ErrorsBeforeLongDelay
            ? (retry.LongMinDelay, retry.LongMaxDelay)
            : (retry.MinDelay, retry.MaxDelay);
        return min + TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * (max - min).Ticks));
    }
}
