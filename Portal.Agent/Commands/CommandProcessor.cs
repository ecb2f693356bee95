using System.Collections.Concurrent;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;

namespace Cogrion.Agent.Commands;

/// <summary>
/// Handles one delivered command: verify, execute (once per delivery; executors are idempotent),
/// report. A result that could not be reported is remembered, so when the Portal redelivers the
/// command the agent reports again instead of running it again.
/// </summary>
public sealed class CommandProcessor(
    CommandVerifier verifier,
    IEnumerable<ICommandExecutor> executors,
    IPortalClient portal,
    ILogger<CommandProcessor> logger)
{
    private const int RememberedResults = 256;
    /// <summary>Flux's API groups (helm.toolkit.fluxcd.io, source.toolkit.fluxcd.io...): custom kinds its CRDs bring.</summary>
    private const string FluxGroupSuffix = ".toolkit.fluxcd.io";
    private readonly Dictionary<string, ICommandExecutor> byType = executors.ToDictionary(e => e.Type);
    private readonly ConcurrentDictionary<Guid, CommandOutcome> unreported = new();

    public async Task HandleAsync(string signed, CancellationToken cancellationToken)
    {
        if (!verifier.TryVerify(signed, out var command, out var rejection))
        {
            // Nothing in an unverified command is trusted; its id is read only to tell the Portal
            // "not executed", which stops the redelivery. The Portal accepts results for this agent's own queue only.
            Jws.TryReadUnverified(signed, ProtocolJson.Default.CommandEnvelope, out _, out var claimed);
            logger.LogWarning("Rejected command {CommandId}: {Reason}", claimed?.Id, rejection);
            if (claimed is not null)
                await portal.ReportResultAsync(claimed.Id, new CommandResult(CommandOutcomes.Rejected, rejection, null), cancellationToken);
            return;
        }

        if (!unreported.TryGetValue(command!.Id, out var outcome))
        {
            outcome = await ExecuteAsync(command, cancellationToken);
            if (unreported.Count >= RememberedResults) unreported.Clear();
            unreported[command.Id] = outcome;
        }
        await portal.ReportResultAsync(command.Id, outcome.ToResult(), cancellationToken);
        unreported.TryRemove(command.Id, out _);
        logger.LogInformation("Command {CommandId} {Type} {Outcome}: {Message}", command.Id, command.Type, outcome.Outcome, outcome.Message);
        if (outcome.AfterReport is not null) await outcome.AfterReport(cancellationToken);
    }

    private async Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        if (!byType.TryGetValue(command.Type, out var executor))
            return CommandOutcome.Failed($"This agent ({AgentVersion.Current}) does not support command type '{command.Type}'.");
        logger.LogInformation("Executing command {CommandId} {Type}", command.Id, command.Type);
        try
        {
            return await executor.ExecuteAsync(command, cancellationToken);
        }
        catch (KubernetesException ex) when (ex.NotServed is { } kind && kind.Group.EndsWith(FluxGroupSuffix, StringComparison.Ordinal))
        {
            // The API answers 404 for the whole kind: Flux's CRDs are not installed, so no catalog app can run here yet.
            return CommandOutcome.Failed($"Flux is not installed in this cluster: the Kubernetes API does not serve {kind.Kind} " +
                $"({kind.ApiVersion}), which catalog apps are installed with. Install Flux (the workspace's stack does, with " +
                $"terraform/modules/flux) and run {command.Type} again.");
        }
        catch (KubernetesException ex)
        {
            return CommandOutcome.Failed(ex.Message);
        }
        catch (InvalidPayloadException ex)
        {
            return CommandOutcome.Failed($"The {command.Type} payload is not valid: {ex.Message}");
        }
        catch (System.Text.Json.JsonException ex)
        {
            return CommandOutcome.Failed($"The {command.Type} payload is not valid: {ex.Message}");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A defect in one executor (or a payload shape it did not foresee) fails that command, not the agent:
            // escaping here would stop the host, the pod would restart, the Portal would redeliver the same
            // command and the agent would crash-loop on it until the command expired.
            logger.LogError(ex, "Command {CommandId} {Type} failed unexpectedly", command.Id, command.Type);
            return CommandOutcome.Failed($"The agent failed unexpectedly on {command.Type} ({ex.GetType().Name}: {ex.Message}).");
        }
    }
}
