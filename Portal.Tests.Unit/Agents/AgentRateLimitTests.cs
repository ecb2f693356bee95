using System.Threading.RateLimiting;
using Cogrion.Portal.Features.Agents;

namespace Cogrion.Portal.Tests.Agents;

/// <summary>
/// The agent API's token buckets (ADR 0129), on the runtime's own limiter: the permit a minute on average and never more, a
/// quarter of it back to back, and a refusal whose Retry-After is what the runtime's lease says plus one replenishment tick,
/// rounded up, so it is never earlier than the next token. (Real HTTP and the real agent: Portal.Tests, AgentRateBudgetTests.)
/// </summary>
public sealed class AgentRateLimitTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(15)]
    [InlineData(61)]
    [InlineData(120)]
    [InlineData(300)]
    [InlineData(1_000_000)]
    public void A_bucket_refills_the_permit_a_minute_never_more_in_periods_of_a_second_or_more(int permitsPerMinute)
    {
        var bucket = AgentRateLimits.Bucket(permitsPerMinute);

        var perMinute = bucket.TokensPerPeriod * (TimeSpan.FromMinutes(1) / bucket.ReplenishmentPeriod);
        Assert.InRange(perMinute, permitsPerMinute * 0.99999, permitsPerMinute);
        Assert.True(bucket.ReplenishmentPeriod >= TimeSpan.FromSeconds(1), $"period {bucket.ReplenishmentPeriod}");
        Assert.True(bucket.TokensPerPeriod <= bucket.TokenLimit, "a period must not add more than the bucket holds");
        Assert.False(bucket.AutoReplenishment); // the partitioned limiter's one timer replenishes: never a timer per agent
        Assert.Equal(0, bucket.QueueLimit);
    }

    [Fact]
    public void The_default_budget_is_two_calls_a_second_thirty_back_to_back()
    {
        var bucket = AgentRateLimits.Bucket(new AgentApiOptions().AgentPermitsPerMinute);
        Assert.Equal(30, bucket.TokenLimit);
        Assert.Equal(2, bucket.TokensPerPeriod);
        Assert.Equal(TimeSpan.FromSeconds(1), bucket.ReplenishmentPeriod);
        // The agent's own change reports (ADR 0128) fit in the burst and in the rate with room for polls, results and beats.
        var reports = new Cogrion.Agent.AppReportOptions();
        Assert.True(reports.Burst * 3 <= bucket.TokenLimit);
    }

    [Theory]
    [InlineData(120, 30, 2)]
    [InlineData(300, 75, 2)]
    [InlineData(15, 4, 5)]
    [InlineData(2, 1, 31)]
    public void A_refusal_after_the_burst_says_the_runtimes_period_plus_a_tick_rounded_up(int permitsPerMinute, int burst, int seconds)
    {
        var bucket = AgentRateLimits.Bucket(permitsPerMinute);
        using var limiter = new TokenBucketRateLimiter(bucket);
        for (var call = 0; call < burst; call++) Assert.True(limiter.AttemptAcquire().IsAcquired, $"call {call} of the burst");

        using var refused = limiter.AttemptAcquire();

        Assert.False(refused.IsAcquired);
        // What the runtime's bucket says for one missing token and no queue: one whole period from now, however much of the
        // current period has run (so never early, except that the shared timer replenishes only at its 100 ms ticks).
        Assert.True(refused.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(bucket.ReplenishmentPeriod, retryAfter);
        Assert.Equal(seconds, AgentRateLimits.RetryAfterSeconds(refused));
        Assert.True(TimeSpan.FromSeconds(seconds) >= retryAfter + AgentRateLimits.ReplenishmentTick);
    }

    [Fact]
    public void A_refusal_without_the_limiters_figure_says_a_minute_the_longest_a_bucket_takes()
    {
        using var limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = 1, QueueLimit = 0 });
        using var held = limiter.AttemptAcquire();
        using var refused = limiter.AttemptAcquire();

        Assert.False(refused.TryGetMetadata(MetadataName.RetryAfter, out _));
        Assert.Equal(60, AgentRateLimits.RetryAfterSeconds(refused));
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(120, true)]
    public void The_permits_are_validated(int permits, bool valid)
    {
        var options = new AgentApiOptions { AgentPermitsPerMinute = permits, AnonymousPermitsPerMinute = permits };
        var result = new AgentApiOptionsValidator().Validate(null, options);
        Assert.Equal(valid, result.Succeeded);
        if (!valid) Assert.Equal(2, result.Failures!.Count(f => f.Contains("PermitsPerMinute", StringComparison.Ordinal)));
    }
}
