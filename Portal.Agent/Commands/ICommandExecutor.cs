using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;

namespace Cogrion.Agent.Commands;

/// <summary>
/// Carries out one command type. Delivery is at least once, so every executor must be idempotent:
/// running a command twice leaves the cluster as running it once does.
/// </summary>
public interface ICommandExecutor
{
    string Type { get; }

    Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken);
}

/// <summary>
/// What an executor reports. <see cref="AfterReport"/> runs once the Portal has the result: for
/// steps that would make reporting impossible (an uninstall removing the agent itself).
/// </summary>
public sealed record CommandOutcome(string Outcome, string Message, JsonObject? Output = null, Func<CancellationToken, Task>? AfterReport = null)
{
    public static CommandOutcome Succeeded(string message, JsonObject? output = null) => new(CommandOutcomes.Succeeded, message, output);

    public static CommandOutcome Failed(string message) => new(CommandOutcomes.Failed, message);

    public CommandResult ToResult() => new(Outcome, Message, Output);
}

/// <summary>The payload did not have the shape its command type requires.</summary>
public sealed class InvalidPayloadException(string message) : Exception(message);
