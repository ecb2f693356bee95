namespace Cogrion.Jobs;

/// <summary>
/// How long a failed attempt waits before the next: exponential (base × 2^(attempt−1), capped) with
/// "equal jitter", a random half on top of a fixed half. The fixed half keeps a real pause between
/// attempts; the random half spreads out the retries of many jobs that failed together (a cloud
/// API outage), so they do not all hit the API again at the same instant.
/// </summary>
internal static class RetryBackoff
{
    public static TimeSpan Delay(JobPolicy policy, int failedAttempt, Random? random = null)
    {
        var exponent = Math.Clamp(failedAttempt - 1, 0, 30);
        var ceiling = Math.Min(policy.BackoffMax.TotalMilliseconds, policy.BackoffBase.TotalMilliseconds * Math.Pow(2, exponent));
        var jitter = (random ?? Random.Shared).NextDouble();
        return TimeSpan.FromMilliseconds(ceiling / 2 + ceiling / 2 * jitter);
    }
}
