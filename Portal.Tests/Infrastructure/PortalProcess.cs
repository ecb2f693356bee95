using System.Net;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// The real Portal binary as a child process on a free loopback port: what a browser test, a
/// benchmark or a crash test needs, where an in-process host would hide process boundaries.
/// </summary>
public sealed class PortalProcess : IAsyncDisposable
{
    private readonly ChildProcess process;

    public string BaseUrl { get; }
    public string Output => process.Output;
    public int ProcessId => process.Id;

    private PortalProcess(ChildProcess process, string baseUrl)
    {
        this.process = process;
        BaseUrl = baseUrl;
    }

    /// <summary>Picks the port first, because the identity provider must know the Portal's address before the Portal starts.</summary>
    public static string NextBaseUrl() => $"http://127.0.0.1:{FreePort.Next()}";

    public static async Task<PortalProcess> StartAsync(string baseUrl, string connectionString, string keycloakAuthority, IDictionary<string,
        string?>? extraSettings = null)
    {
        var settings = TestSettings.PortalConfiguration(connectionString, keycloakAuthority);
        if (extraSettings is not null)
            foreach (var (key, value) in extraSettings) settings[key] = value;
        var environment = TestSettings.AsEnvironment(settings);
        environment["ASPNETCORE_URLS"] = baseUrl;
        environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = await ChildProcess.StartTiedAsync($"portal {baseUrl}", RepoPaths.PortalBinary, [], environment, AppContext.BaseDirectory);
        var portal = new PortalProcess(process, baseUrl);
        await portal.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        return portal;
    }

    private async Task WaitUntilReadyAsync(TimeSpan deadline)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var until = DateTime.UtcNow + deadline;
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"The Portal exited during start-up:\n{Output}");
            try
            {
                if ((await client.GetAsync(BaseUrl + "/readyz")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Listening, but the answer took longer than the client waits: a loaded machine, or a host still starting. Ask again.
            }
            if (DateTime.UtcNow > until) throw new TimeoutException($"The Portal was not ready in time:\n{Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits for the process to end (after a kill, for instance); false if it still runs after <paramref name="timeout"/>.</summary>
    public Task<bool> WaitForExitAsync(TimeSpan timeout) => process.WaitForExitAsync(timeout);

    public ValueTask DisposeAsync() => process.DisposeAsync();
}
