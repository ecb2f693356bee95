namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// The real Portal.Agent binary (built next to the tests by the project reference) with the
/// simulated cluster in a state directory of the test's own, and fast retry and heartbeat timings.
/// </summary>
public sealed class AgentProcess : IAsyncDisposable
{
    private readonly ChildProcess process;

    public string StateDirectory { get; }
    public string Output => process.Output;
    public bool HasExited => process.HasExited;
    public int ExitCode => process.ExitCode;

    private AgentProcess(ChildProcess process, string stateDirectory)
    {
        this.process = process;
        StateDirectory = stateDirectory;
    }

    public static string Binary => Path.Combine(AppContext.BaseDirectory, "Portal.Agent");

    public static string NewStateDirectory() => Directory.CreateTempSubdirectory("cogrion-agent-test-").FullName;

    public static AgentProcess Start(string portalUrl, string? bootstrapToken, string? stateDirectory = null, IDictionary<string, string?>? extra = null)
    {
        stateDirectory ??= NewStateDirectory();
        var environment = new Dictionary<string, string?>
        {
            ["Agent__PortalUrl"] = portalUrl,
            ["Agent__BootstrapToken"] = bootstrapToken,
            ["Agent__Cluster"] = "Simulated",
            ["Agent__StateDirectory"] = stateDirectory,
            ["Agent__Name"] = "test-agent",
            ["Agent__HeartbeatInterval"] = "00:00:01",
            ["Agent__Retry__MinDelay"] = "00:00:00.200",
            ["Agent__Retry__MaxDelay"] = "00:00:00.500",
            ["Agent__Retry__LongMinDelay"] = "00:00:00.500",
            ["Agent__Retry__LongMaxDelay"] = "00:00:01",
            ["DOTNET_ENVIRONMENT"] = "Production",
        };
        if (extra is not null)
            foreach (var (key, value) in extra) environment[key] = value;
        var child = ChildProcess.Start("agent", Binary, [], environment, stateDirectory);
        return new AgentProcess(child, stateDirectory);
    }

    public Task WaitForOutputAsync(string marker, TimeSpan? timeout = null) => process.WaitForOutputAsync(marker, timeout ?? TimeSpan.FromSeconds(30));

    public Task<bool> WaitForExitAsync(TimeSpan timeout) => process.WaitForExitAsync(timeout);

    /// <summary>The simulated cluster as the agent left it on disk.</summary>
    public string ClusterSnapshot()
    {
        var file = Path.Combine(StateDirectory, "simulated-cluster.json");
        return File.Exists(file) ? File.ReadAllText(file) : "{}";
    }

    public async ValueTask DisposeAsync()
    {
        await process.DisposeAsync();
        try { Directory.Delete(StateDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
