using System.Collections.Concurrent;
using System.Diagnostics;
using Cogrion.Portal.Features.Agents.Versions;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Cogrion.Portal.Infrastructure.Processes;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Features.Workspaces.Sandbox;

/// <summary>
/// The sandbox workspaces' Kubernetes clusters. Each is a <c>sandbox-cluster</c> process (API server,
/// Deployment controller, kubelet; docs/sandbox.md) serving the cluster kept next to the workspace's
/// state, started under a lifeline so it dies with this Portal (docs/adr/0060), and with it every pod
/// it runs. The Portal never starts an agent itself: the sandbox run applies the module's objects to
/// the cluster and its kubelet starts the agent from the Deployment, as a cluster would. A cluster
/// runs at most once: its host takes an exclusive lock on the cluster's directory.
/// </summary>
public sealed class SandboxClusters(
    IOptions<ProvisioningOptions> options,
    AgentRelease release,
    NpgsqlDataSource dataSource,
    LifelineLauncher lifelines,
    MigrationStatus migrations,
    TimeProvider time,
    ILogger<SandboxClusters> logger) : IHostedService
{
    /// <summary>sandbox-cluster's exit code when another host already serves the directory.</summary>
    private const int AlreadyServed = 3;
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);
    private readonly ConcurrentDictionary<Guid, LifelineProcess> hosts = new();
    private readonly SemaphoreSlim starting = new(1, 1);
    private readonly CancellationTokenSource stopping = new();
    private Task resuming = Task.CompletedTask;

    /// <summary>Whether sandbox workspaces get an agent image to run (<c>Provisioning:SandboxAgentExecutable</c>); without one they are ready once
    /// applied.</summary>
    public bool RunsAgents => Images().Count > 0;

    /// <summary>Where the cluster of a workspace lives: next to its state, as tofu-sandbox expects it.</summary>
    public string DirectoryOf(Guid workspaceId) => Path.Combine(options.Value.SandboxStateRoot, workspaceId.ToString("n"), "cluster");

    /// <summary>Image reference → agent build: the node's registry. The Portal's current agent image maps to SandboxAgentExecutable.</summary>
    public IReadOnlyDictionary<string, string> Images()
    {
        var images = new Dictionary<string, string>();
        if (!string.IsNullOrWhiteSpace(options.Value.SandboxAgentExecutable))
            images[release.Current.ToString()] = options.Value.SandboxAgentExecutable;
        foreach (var image in options.Value.SandboxAgentImages) images[image.Image] = image.Executable;
        return images;
    }

    /// <summary>Starts the workspace's cluster unless it runs already, and waits until its API server answers.</summary>
    public async Task EnsureRunningAsync(Guid workspaceId, Func<string, Task> log, CancellationToken cancellationToken)
    {
        await starting.WaitAsync(cancellationToken);
        try
        {
            if (hosts.TryGetValue(workspaceId, out var running) && !running.HasExited) return;
            hosts.TryRemove(workspaceId, out _);
            running?.Dispose();
            var deadline = time.GetUtcNow() + StartDeadline;
            while (true)
            {
                var (host, served) = await StartAsync(workspaceId, cancellationToken);
                if (host is not null)
                {
                    hosts[workspaceId] = host;
                    await log($"The workspace's simulated Kubernetes cluster serves at {served}.");
                    return;
                }
                // Another host still holds the cluster (a Portal that died a moment ago, its host still stopping): wait for it.
                if (time.GetUtcNow() > deadline)
                    throw new InvalidOperationException($"The simulated cluster in {DirectoryOf(workspaceId)} is held by another sandbox-cluster " +
                        $"process; it runs at most once.");
                await Task.Delay(TimeSpan.FromMilliseconds(500), time, cancellationToken);
            }
        }
        finally
        {
            starting.Release();
        }
    }

    private async Task<(LifelineProcess? Host, string? Url)> StartAsync(Guid workspaceId, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(options.Value.SandboxClusterExecutable) { WorkingDirectory = options.Value.SandboxStateRoot };
        start.ArgumentList.Add("--dir");
        start.ArgumentList.Add(DirectoryOf(workspaceId));
        foreach (var (image, executable) in Images())
        {
            start.ArgumentList.Add("--image");
            start.ArgumentList.Add($"{image}={executable}");
        }
        start.ArgumentList.Add("--charts");
        start.ArgumentList.Add(options.Value.CatalogRoot);
        start.ArgumentList.Add("--chart-ready-delay");
        start.ArgumentList.Add(options.Value.SandboxChartReadyDelay.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(DirectoryOf(workspaceId));
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } dotnetRoot) start.Environment["DOTNET_ROOT"] = dotnetRoot;
        // The host's grace covers its pods' (10 s each, in parallel).
        var host = await lifelines.StartAsync(start, TimeSpan.FromSeconds(20), cancellationToken);
        using var ready = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ready.CancelAfter(StartDeadline);
        try
        {
            while (await host.StandardOutput.ReadLineAsync(ready.Token) is { } line)
            {
                if (!line.StartsWith("sandbox-cluster: serving ", StringComparison.Ordinal)) continue;
                var url = line["sandbox-cluster: serving ".Length..].Split(';')[0];
                logger.LogInformation("Sandbox cluster of workspace {WorkspaceId} serves at {Url} (pid {ProcessId})", workspaceId, url,
                    host.ChildProcessId);
                _ = DrainAsync(host);
                return (host, url);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            throw new InvalidOperationException($"The simulated cluster of workspace {workspaceId} did not start within " +
                $"{StartDeadline.TotalSeconds:0} s.");
        }
        await host.WaitForExitAsync(CancellationToken.None);
        var code = host.ExitCode;
        var said = (await host.StandardError.ReadToEndAsync(CancellationToken.None)).Trim();
        host.Dispose();
        if (code == AlreadyServed) return (null, null);
        throw new InvalidOperationException($"The simulated cluster of workspace {workspaceId} stopped at start (exit code {code}): {said}");
    }

    /// <summary>The host's own log goes to the Portal's log at debug level; nobody must leave its pipes full.</summary>
    private async Task DrainAsync(LifelineProcess host)
    {
        try
        {
            var error = Task.Run(async () =>
            {
                while (await host.StandardError.ReadLineAsync() is { } line) logger.LogDebug("sandbox-cluster: {Line}", line);
            });
            while (await host.StandardOutput.ReadLineAsync() is { } line) logger.LogDebug("sandbox-cluster: {Line}", line);
            await error;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Waits until the workspace's agent, started by the cluster from the module's Deployment, has
    /// registered with the bootstrap token the run minted and reported in (its first heartbeat comes
    /// after it saved its identity in its state Secret); false after the registration timeout.
    /// </summary>
    public async Task<bool> WaitForAgentAsync(Guid tenantId, Guid workspaceId, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + options.Value.SandboxAgentRegistrationTimeout;
        while (time.GetUtcNow() < deadline)
        {
            if (await IsRegisteredAsync(tenantId, workspaceId, cancellationToken)) return true;
            if (hosts.TryGetValue(workspaceId, out var host) && host.HasExited) return false;
            await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken);
        }
        return false;
    }

    /// <summary>After a destroy: the cluster stops and its directory (objects, CA, pods' files) goes.</summary>
    public async Task RemoveAsync(Guid workspaceId)
    {
        await StopAsync(workspaceId, TimeSpan.FromSeconds(20));
        try { if (Directory.Exists(DirectoryOf(workspaceId))) Directory.Delete(DirectoryOf(workspaceId), recursive: true); }
        catch (IOException ex)
        {
            logger.LogWarning("Could not remove the simulated cluster of workspace {WorkspaceId}: {Problem}", workspaceId,
            ex.Message);
        }
    }

    /// <summary>
    /// SIGTERM, then SIGKILL after <paramref name="grace"/>. Nothing is lost either way: the cluster's
    /// objects are saved after every change, and its pods' lifelines end them when the host is gone.
    /// </summary>
    private async Task StopAsync(Guid workspaceId, TimeSpan grace, CancellationToken cancellationToken = default)
    {
        if (!hosts.TryRemove(workspaceId, out var host)) return;
        if (!host.HasExited)
        {
            host.Terminate();
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(grace);
            try { await host.WaitForExitAsync(deadline.Token); }
            catch (OperationCanceledException) { host.Kill(); }
        }
        host.Dispose();
    }

    /// <summary>The workspaces whose cluster this Portal serves now (for tests and diagnostics).</summary>
    internal IReadOnlyCollection<Guid> Running => hosts.Where(h => !h.Value.HasExited).Select(h => h.Key).ToList();

    /// <summary>
    /// After a restart, the live sandbox workspaces get their clusters back, as they were (their objects
    /// are on disk): the kubelet starts the agent from its Deployment, with the identity in its state
    /// Secret and no new token. One Portal process serves a cluster; another finds it locked and leaves it.
    /// </summary>
    internal async Task ResumeAsync(CancellationToken cancellationToken)
    {
        await migrations.WaitUntilAppliedAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var live = await connection.QueryAsync<Guid>(new CommandDefinition("""
            select w.id from workspaces w
            where w.provider = 'sandbox' and w.status in ('ready', 'drifted', 'updating', 'awaiting_approval')
            order by w.created_at
            """, cancellationToken: cancellationToken));
        foreach (var id in live)
        {
            if (!File.Exists(Path.Combine(DirectoryOf(id), "objects.json"))) continue;
            try
            {
                await EnsureRunningAsync(id, _ => Task.CompletedTask, cancellationToken);
            }
            catch (InvalidOperationException ex)
            {
                logger.LogWarning("Could not resume the simulated cluster of workspace {WorkspaceId}: {Problem}", id, ex.Message);
            }
        }
    }

    private async Task<bool> IsRegisteredAsync(Guid tenantId, Guid workspaceId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from agents where tenant_id = @tenantId and workspace_id = @workspaceId and status = 'active' and " +
                "last_seen_at is not null)",
            new { tenantId, workspaceId }, cancellationToken: cancellationToken));
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // In the background: start-up must not wait for the database, and a failure here costs the
        // sandbox its clusters, not the Portal its start.
        resuming = Task.Run(async () =>
        {
            try { await ResumeAsync(stopping.Token); }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested) { }
            catch (Exception ex) { logger.LogWarning(ex, "Could not resume the sandbox's clusters"); }
        });
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        await resuming;
        // The Portal's shutdown does not wait on its sandbox: the hosts end as if the Portal had died
        // (ADR 0060). Nothing is lost: the clusters' objects are saved after every change, and each
        // pod's own lifeline stops it gracefully once its host is gone.
        foreach (var id in hosts.Keys.ToList())
            if (hosts.TryRemove(id, out var host)) host.Dispose();
    }
}
