namespace Cogrion.Portal.Features.Audit;

public enum ActorKind { User, Agent, System }

/// <summary>Who made a change: a person, a Cluster Agent, or the Portal itself.</summary>
public sealed record Actor(ActorKind Kind, string Id, string? Name)
{
    public static Actor System(string component) => new(ActorKind.System, component, component);

    public static Actor User(Guid userId, string? username) => new(ActorKind.User, userId.ToString(), username);

    public static Actor Agent(Guid agentId, string? name = null) => new(ActorKind.Agent, agentId.ToString(), name);

    internal string KindText => Kind switch
    {
        ActorKind.User => "user",
        ActorKind.Agent => "agent",
        _ => "system",
    };
}
