namespace Cogrion.Agent.Protocol;

/// <summary>
/// The Portal's last "429, retry after N seconds", shared by every call the agent makes: the per-agent budget is one for the
/// polls, the results, the beats and the change reports, so when one of them is refused, none of them calls again before the
/// Portal said it may (<see cref="PortalClient"/> waits it out before sending; the change reports wait before they read the
/// state they send, so the report that goes after the wait carries the latest state).
/// </summary>
public sealed class PortalRetryAfter(TimeProvider time)
{
    /// <summary>When a 429 does not say how long (a proxy's, not the Portal's: the Portal always says, ADR 0129): half a minute.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest wait honoured: a proxy's mistaken "a day" must not silence the agent for a day (the Portal would show it
    /// offline all along); after this the agent asks again and is told again.
    /// </summary>
    public static readonly TimeSpan Longest = TimeSpan.FromMinutes(5);

    private readonly Lock gate = new();
    private DateTimeOffset notBefore = DateTimeOffset.MinValue;

    /// <summary>How long until the agent may call the Portal again; zero when it may now.</summary>
    public TimeSpan Remaining
    {
        get
        {
            lock (gate)
            {
                var left = notBefore - time.GetUtcNow();
                return left > TimeSpan.Zero ? left : TimeSpan.Zero;
            }
        }
    }

    /// <summary>Records a refusal: no call before <paramref name="retryAfter"/> (bounded by <see cref="Longest"/>) from now.</summary>
    public void Refused(TimeSpan retryAfter)
    {
        var until = time.GetUtcNow() + (retryAfter < TimeSpan.Zero ? TimeSpan.Zero : retryAfter > Longest ? Longest : retryAfter);
        lock (gate)
        {
            if (until > notBefore) notBefore = until;
        }
    }

    /// <summary>Waits until the agent may call again (at once when it may now).</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        // Again after the wait: another call may have been refused meanwhile and pushed the time on.
        for (var left = Remaining; left > TimeSpan.Zero; left = Remaining) await Task.Delay(left, time, cancellationToken);
    }
}
