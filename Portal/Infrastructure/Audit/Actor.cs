using System.Security.Claims;
using Cogrion.Portal.Infrastructure.Authentication;

namespace Cogrion.Portal.Infrastructure.Audit;

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

public static class ClaimsPrincipalActor
{
    /// <summary>
    /// The signed-in person as the actor of an audit event. A session without the Portal's user id is a
    /// bug, not an anonymous actor: an event must never name a made-up user.
    /// </summary>
    public static Actor AsActor(this ClaimsPrincipal user) =>
        Actor.User(user.GetUserId() ?? throw new InvalidOperationException("A signed-in user has a Portal user id."), user.GetUsername());
}
