using System.Diagnostics;
using System.Diagnostics.Metrics;
using Cogrion.Agent.Protocol;

namespace Cogrion.Portal.Features.Agents;

/// <summary>
/// The agent API's own instruments (ADR 0066): on /metrics with the job engine's, and over OTLP when
/// telemetry is exported. Tags are bounded (an outcome, a refusal type), never an agent or tenant id,
/// which would make a series per agent; a trace may name the agent, a metric may not.
/// </summary>
public sealed class AgentTelemetry : IDisposable
{
    public const string Name = "Cogrion.Portal.Agents";

    /// <summary>Spans of the agent API beyond the request's own: the long poll's wait.</summary>
    public static readonly ActivitySource Source = new(Name);

    private readonly Meter meter;
    private readonly Counter<long> tokens;
    private readonly Counter<long> delivered;
    private readonly Counter<long> results;
    private readonly Counter<long> heartbeats;
    private readonly UpDownCounter<long> waiting;

    public AgentTelemetry(IMeterFactory meterFactory)
    {
        meter = meterFactory.Create(Name);
        tokens = meter.CreateCounter<long>("cogrion.agents.tokens", "{request}",
            "Access token requests, by result (issued, or the refusal's problem type).");
        delivered = meter.CreateCounter<long>("cogrion.agents.commands.delivered", "{command}",
            "Commands handed to agents by their long polls on this replica.");
        results = meter.CreateCounter<long>("cogrion.agents.commands.results", "{result}", "Command results reported by agents, by outcome.");
        heartbeats = meter.CreateCounter<long>("cogrion.agents.heartbeats", "{heartbeat}", "Heartbeats received on this replica.");
        waiting = meter.CreateUpDownCounter<long>("cogrion.agents.long_polls", "{poll}", "Long polls held open on this replica now.");
    }

    public void TokenIssued() => tokens.Add(1, new KeyValuePair<string, object?>("result", "issued"));

    public void TokenRefused(string? problemType) =>
        tokens.Add(1, new KeyValuePair<string, object?>("result", problemType switch
        {
            ProblemTypes.AgentRevoked => "revoked",
            ProblemTypes.InvalidAssertion => "invalid-assertion",
            _ => "refused",
        }));

    public void Heartbeat() => heartbeats.Add(1);

    public void ResultReported(string outcome) => results.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>Marks a long poll open until the returned scope is disposed, with a span for its wait.</summary>
    public LongPoll StartLongPoll(Guid agentId)
    {
        waiting.Add(1);
        var activity = Source.StartActivity("agent.commands.wait");
        activity?.SetTag("cogrion.agent.id", agentId.ToString());
        return new LongPoll(this, activity);
    }

    public readonly struct LongPoll(AgentTelemetry telemetry, Activity? activity) : IDisposable
    {
        public void Delivered(int count)
        {
            telemetry.delivered.Add(count);
            activity?.SetTag("cogrion.agent.commands", count);
        }

        public void Dispose()
        {
            telemetry.waiting.Add(-1);
            activity?.Dispose();
        }
    }

    public void Dispose() => meter.Dispose();
}
