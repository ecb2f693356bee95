using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Features.Workspaces.Runs;

namespace Cogrion.Portal.Features.Workspaces.Sandbox;

/// <summary>
/// The sandbox's stand-in for the Cluster Agent the modules install: after a sandbox apply, a real
/// Portal.Agent process with the simulated cluster, registering with its own bootstrap token, so a
/// sandbox workspace becomes ready the way a real one does (when its agent has registered). Owns the
/// processes: stopped on destroy and at shutdown. Off unless <c>Provisioning:SandboxAgentExecutable</c> is set.
/// </summary>
public sealed class SandboxAgentLauncher(
    IOptions<ProvisioningOptions> options,
    NpgsqlDataSource dataSource,
    IBootstrapTokenSource bootstrapTokens,
    MigrationStatus migrations,
    ILogger<SandboxAgentLauncher> logger) : IHostedService
{
    private readonly ConcurrentDictionary<Guid, Process> agents = new();
    private readonly CancellationTokenSource stopping = new();
    private Task resuming = Task.CompletedTask;

    /// <summary>The agent file that proves an agent registered before: it carries its identity, so it needs no new token.</summary>
    private const string AgentStateFile = "state.json";

    public bool Enabled => !string.IsNullOrWhiteSpace(options.Value.SandboxAgentExecutable);

    /// <summary>
    /// Starts the workspace's agent (unless one runs already) and waits until it has registered.
    /// The token is minted here rather than taken from the apply: the simulated cluster has no Secret
    /// to read it from, and the apply's token never leaves its plan.
    /// </summary>
    public async Task<bool> EnsureRegisteredAsync(Guid tenantId, Guid workspaceId, string workspaceName, Func<string, Task> log, CancellationToken cancellationToken)
    {
        if (await IsRegisteredAsync(tenantId, workspaceId, cancellationToken) && agents.ContainsKey(workspaceId)) return true;
        if (!agents.TryGetValue(workspaceId, out var running) || running.HasExited)
        {
            var token = await bootstrapTokens.MintAsync(tenantId, workspaceId, cancellationToken);
            var process = Start(workspaceId, workspaceName, token);
            await log($"Started the simulated cluster's Cluster Agent (pid {process.Id}); waiting for it to register with {options.Value.PortalUrl}.");
        }
        var deadline = DateTimeOffset.UtcNow + options.Value.SandboxAgentRegistrationTimeout;
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (await IsRegisteredAsync(tenantId, workspaceId, cancellationToken)) return true;
            if (agents.TryGetValue(workspaceId, out var process) && process.HasExited) break;
            await Task.Delay(250, cancellationToken);
        }
        Stop(workspaceId);
        return false;
    }

    private string StateDirectoryOf(Guid workspaceId) => Path.Combine(options.Value.SandboxStateRoot, workspaceId.ToString("n"), "agent");

    /// <summary>Starts the workspace's agent process; without a token it resumes the identity in its state directory.</summary>
    private Process Start(Guid workspaceId, string workspaceName, string? bootstrapToken)
    {
        var stateDirectory = StateDirectoryOf(workspaceId);
        Directory.CreateDirectory(stateDirectory);
        var start = new ProcessStartInfo(options.Value.SandboxAgentExecutable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = stateDirectory,
        };
        start.Environment["Agent__PortalUrl"] = options.Value.PortalUrl;
        if (bootstrapToken is not null) start.Environment["Agent__BootstrapToken"] = bootstrapToken;
        start.Environment["Agent__Cluster"] = "Simulated";
        start.Environment["Agent__StateDirectory"] = stateDirectory;
        start.Environment["Agent__Name"] = $"{workspaceName}-sandbox";
        start.Environment["Agent__Retry__MinDelay"] = "00:00:01";
        start.Environment["Agent__Retry__MaxDelay"] = "00:00:02";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        var process = new Process { StartInfo = start };
        // Drained, not logged line by line: the agent's own log is its business.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        agents[workspaceId] = process;
        logger.LogInformation("Started the sandbox agent of workspace {WorkspaceId} (pid {ProcessId})", workspaceId, process.Id);
        return process;
    }

    /// <summary>
    /// After a restart of the Portal, the live sandbox workspaces get their agents back: a real cluster's
    /// agent would have kept running, and the simulated one stands in for it. Only agents that registered
    /// before (their state file exists) are resumed, with their own identity and no new token. One Portal
    /// process owns the sandbox's agents: the sandbox is a local trial, not a replicated deployment.
    /// </summary>
    internal async Task ResumeAsync(CancellationToken cancellationToken)
    {
        await migrations.WaitUntilAppliedAsync(cancellationToken);
        if (!Enabled) return;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var live = await connection.QueryAsync<(Guid Id, string Name)>(new CommandDefinition("""
            select w.id, w.name from workspaces w
            where w.provider = 'sandbox' and w.status in ('ready', 'drifted', 'updating')
            order by w.created_at
            """, cancellationToken: cancellationToken));
        foreach (var (id, name) in live)
        {
            if (agents.ContainsKey(id) || !File.Exists(Path.Combine(StateDirectoryOf(id), AgentStateFile))) continue;
            Start(id, name, bootstrapToken: null);
        }
    }

    public void Stop(Guid workspaceId)
    {
        if (!agents.TryRemove(workspaceId, out var process)) return;
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { /* already gone */ }
        process.Dispose();
    }

    private async Task<bool> IsRegisteredAsync(Guid tenantId, Guid workspaceId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from agents where tenant_id = @tenantId and workspace_id = @workspaceId and status = 'active')",
            new { tenantId, workspaceId }, cancellationToken: cancellationToken));
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // In the background: start-up must not wait for the database, and a failure here costs the
        // sandbox its agents, not the Portal its start.
        resuming = Task.Run(async () =>
        {
            try { await ResumeAsync(stopping.Token); }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested) { }
            catch (Exception ex) { logger.LogWarning(ex, "Could not resume the sandbox's agents"); }
        });
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        await resuming;
        foreach (var workspaceId in agents.Keys) Stop(workspaceId);
    }

    /// <summary>The workspaces whose agent process this launcher runs now (for tests and diagnostics).</summary>
    internal IReadOnlyCollection<Guid> Running => agents.Where(a => !a.Value.HasExited).Select(a => a.Key).ToList();
}
