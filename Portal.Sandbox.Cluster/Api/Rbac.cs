using System.Text.Json.Nodes;
using Cogrion.Sandbox.Cluster.Store;

namespace Cogrion.Sandbox.Cluster.Api;

/// <summary>Who is calling: a user name and its groups, as Kubernetes authentication yields them.</summary>
public sealed record UserInfo(string Name, IReadOnlyList<string> Groups)
{
    public static readonly UserInfo Admin = new("kubernetes-admin", ["system:masters", "system:authenticated"]);

    public static UserInfo ServiceAccount(string ns, string name) =>
        new($"system:serviceaccount:{ns}:{name}", ["system:serviceaccounts", $"system:serviceaccounts:{ns}", "system:authenticated"]);
}

/// <summary>What a request asks to do, in RBAC's terms.</summary>
public sealed record RequestAttributes(string Verb, string ApiGroup, string Resource, string? Namespace, string? Name,
    string? NonResourcePath = null);

/// <summary>
/// RBAC, evaluated per request from the Roles, ClusterRoles and bindings actually stored, like
/// Kubernetes' authorizer: a request is allowed when any rule bound to the user (or one of its groups)
/// matches it; a rule with resourceNames matches only requests that name an object. system:masters
/// may do anything; every authenticated user may read /version and /healthz (system:public-info-viewer).
/// Also the escalation check: a binding or role may grant only rights its author holds, or may bind.
/// </summary>
public sealed class Rbac(ObjectStore store)
{
    private static readonly HashSet<string> PublicPaths = ["/version", "/healthz", "/readyz", "/livez"];

    public bool Allows(UserInfo user, RequestAttributes request)
    {
        if (user.Groups.Contains("system:masters")) return true;
        if (request.NonResourcePath is { } path && PublicPaths.Contains(path)) return true;
        return RulesFor(user, request.Namespace).Any(rule => Matches(rule, request));
    }

    /// <summary>The rules that apply to a user: every ClusterRoleBinding's, plus the RoleBindings of <paramref name="ns"/>.</summary>
    private IEnumerable<JsonObject> RulesFor(UserInfo user, string? ns)
    {
        foreach (var binding in store.List(ResourceTypes.ClusterRoleBinding, null))
            if (Binds(binding, user))
                foreach (var rule in RoleRules(binding["roleRef"] as JsonObject, null)) yield return rule;
        if (ns is null) yield break;
        foreach (var binding in store.List(ResourceTypes.RoleBinding, ns))
            if (Binds(binding, user))
                foreach (var rule in RoleRules(binding["roleRef"] as JsonObject, ns)) yield return rule;
    }

    /// <summary>The rules of a role reference, or nothing when the role does not exist (a dangling binding grants nothing).</summary>
    private IEnumerable<JsonObject> RoleRules(JsonObject? roleRef, string? ns) =>
        ReferencedRole(roleRef, ns)?["rules"] is JsonArray rules ? rules.OfType<JsonObject>() : [];

    private JsonObject? ReferencedRole(JsonObject? roleRef, string? ns)
    {
        var kind = roleRef?["kind"]?.GetValue<string>();
        var name = roleRef?["name"]?.GetValue<string>();
        if (name is null) return null;
        return kind switch
        {
            "ClusterRole" => store.Get(ResourceTypes.ClusterRole, null, name),
            "Role" when ns is not null => store.Get(ResourceTypes.Role, ns, name),
            _ => null,
        };
    }

    private static bool Binds(JsonObject binding, UserInfo user) =>
        (binding["subjects"] as JsonArray ?? []).OfType<JsonObject>().Any(subject =>
        {
            var name = subject["name"]?.GetValue<string>();
            return subject["kind"]?.GetValue<string>() switch
            {
                "ServiceAccount" => user.Name == $"system:serviceaccount:{subject["namespace"]?.GetValue<string>()}:{name}",
                "User" => user.Name == name,
                "Group" => name is not null && user.Groups.Contains(name),
                _ => false,
            };
        });

    private static bool Matches(JsonObject rule, RequestAttributes request)
    {
        if (!Contains(rule["verbs"], request.Verb)) return false;
        if (request.NonResourcePath is { } path)
            return (rule["nonResourceURLs"] as JsonArray ?? [])
                .Any(u => u?.GetValue<string>() is { } url
                && (url == path || url == "*" || (url.EndsWith('*') && path.StartsWith(url[..^1], StringComparison.Ordinal))));
        if (!Contains(rule["apiGroups"], request.ApiGroup) || !Contains(rule["resources"], request.Resource)) return false;
        if (rule["resourceNames"] is JsonArray { Count: > 0 } names)
            return request.Name is not null && names.Any(n => n?.GetValue<string>() == request.Name);
        return true;
    }

    private static bool Contains(JsonNode? list, string value) =>
        (list as JsonArray ?? []).Any(v => v?.GetValue<string>() is { } item && (item == value || item == "*"));

    /// <summary>
    /// Kubernetes' escalation check for a (Cluster)RoleBinding: allowed if the user may "bind" the
    /// referenced role, or already holds every right it grants there. Returns the refusal, or null.
    /// </summary>
    public string? RefuseBinding(UserInfo user, JsonObject binding, string? ns)
    {
        if (user.Groups.Contains("system:masters")) return null;
        var roleRef = binding["roleRef"] as JsonObject;
        var kind = roleRef?["kind"]?.GetValue<string>();
        var name = roleRef?["name"]?.GetValue<string>();
        var roleResource = kind == "ClusterRole" ? "clusterroles" : "roles";
        if (Allows(user, new RequestAttributes("bind", "rbac.authorization.k8s.io", roleResource, ns, name))) return null;
        var role = ReferencedRole(roleRef, ns);
        if (role is null) return $"{roleResource}.rbac.authorization.k8s.io \"{name}\" not found";
        return Uncovered(user, role, ns);
    }

    /// <summary>The escalation check for a Role or ClusterRole: its author must hold every right it grants (or may "escalate").</summary>
    public string? RefuseRole(UserInfo user, JsonObject role, string? ns, string resource)
    {
        if (user.Groups.Contains("system:masters")) return null;
        if (Allows(user,
            new RequestAttributes("escalate", "rbac.authorization.k8s.io", resource, ns, role["metadata"]?["name"]?.GetValue<string>()))) return null;
        return Uncovered(user, role, ns);
    }

    private string? Uncovered(UserInfo user, JsonObject role, string? ns)
    {
        var missing = new List<string>();
        foreach (var rule in (role["rules"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var verbs = Strings(rule["verbs"]);
            if (rule["nonResourceURLs"] is JsonArray urls)
            {
                foreach (var url in Strings(urls))
                    foreach (var verb in verbs)
                        if (!Allows(user,
                            new RequestAttributes(verb, "", "", null, null,
                            url))) missing.Add($"{{NonResourceURLs:[\"{url}\"], Verbs:[\"{verb}\"]}}");
                continue;
            }
            var names = Strings(rule["resourceNames"]);
            foreach (var group in Strings(rule["apiGroups"]))
                foreach (var resource in Strings(rule["resources"]))
                    foreach (var verb in verbs)
                        foreach (var name in names.Count == 0 ? [null] : names.Cast<string?>())
                            if (!Allows(user, new RequestAttributes(verb, group, resource, ns, name)))
                                missing.Add($"{{APIGroups:[\"{group}\"], " +
                                    $"Resources:[\"{resource}\"]{(name is null ? "" : $", ResourceNames:[\"{name}\"]")}, Verbs:[\"{verb}\"]}}");
        }
        if (missing.Count == 0) return null;
        var groups = string.Join(" ", user.Groups.Select(g => $"\"{g}\""));
        return $"user \"{user.Name}\" (groups=[{groups}]) is attempting to grant RBAC permissions not currently held:\n{string.Join("\n", missing)}";
    }

    private static List<string> Strings(JsonNode? list) => (list as JsonArray ?? []).Select(v => v?.GetValue<string>()).OfType<string>().ToList();
}
