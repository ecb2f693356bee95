using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Features.Provisioning;

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
    ILogger<SandboxAgentLauncher> logger) : IHostedService
{
    private readonly ConcurrentDictionary<Guid, Process> agents = new();

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
            var stateDirectory = Path.Combine(options.Value.SandboxStateRoot, workspaceId.ToString("n"), "agent");
            Directory.CreateDirectory(stateDirectory);
            var start = new ProcessStartInfo(options.Value.SandboxAgentExecutable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = stateDirectory,
            };
            start.Environment["Agent__PortalUrl"] = options.Value.PortalUrl;
            start.Environment["Agent__BootstrapToken"] = token;
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

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var workspaceId in agents.Keys) Stop(workspaceId);
        return Task.CompletedTask;
    }
}
