using System.Net;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>Waits for a condition that becomes true in the background (migrations, a job), with a generous deadline instead of a sleep.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(30);

    public static async Task<string> StatusAsync(HttpClient client, string path, HttpStatusCode expected, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? DefaultDeadline);
        while (true)
        {
            var response = await client.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == expected) return body;
            if (DateTime.UtcNow > until)
                throw new TimeoutException($"{path} answered {(int)response.StatusCode} ({body}), not {(int)expected}.");
            await Task.Delay(100);
        }
    }

    public static async Task<T> ValueAsync<T>(Func<Task<T>> read, Func<T, bool> accept, string what, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? DefaultDeadline);
        while (true)
        {
            var value = await read();
            if (accept(value)) return value;
            if (DateTime.UtcNow > until) throw new TimeoutException($"Timed out waiting for {what}; last value: {value}.");
            await Task.Delay(100);
        }
    }
}
