using System.Text.Json;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Authentication;
using Npgsql;

namespace Cogrion.Portal.Features.Agents.Commands;

/// <summary>
/// An extension point for features that enqueue commands of their own and must act on the result in the
/// same transaction that records it (secrets delete their ciphertext there). Handlers run for the first
/// report only; a repeated report of the same command is not passed on.
/// </summary>
public interface IAgentCommandResultHandler
{
    string CommandType { get; }

    Task HandleAsync(AgentCommandResultContext context, CancellationToken cancellationToken);
}

public sealed record AgentCommandResultContext(
    AgentIdentity Agent, Guid CommandId, JsonElement Payload, CommandResult Result, NpgsqlConnection Connection, NpgsqlTransaction Transaction);
