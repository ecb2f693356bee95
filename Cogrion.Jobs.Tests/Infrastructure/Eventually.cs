namespace Cogrion.Jobs.Tests.Infrastructure;

/// <summary>Waits for a condition that becomes true in the background, with a generous deadline instead of a sleep.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(30);

    public static async Task<T> ValueAsync<T>(Func<Task<T>> read, Func<T, bool> accept, string what, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? DefaultDeadline);
        while (true)
        {
            var value = await read();
            if (accept(value)) return value;
            if (DateTime.UtcNow > until) throw new TimeoutException($"Timed out waiting for {what}; last value: {value}.");
            await Task.Delay(50);
        }
    }

    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? deadline = null) =>
        ValueAsync(() => Task.FromResult(condition()), ok => ok, what, deadline);
}
