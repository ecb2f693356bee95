using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Sandbox.Cluster.Store;
using Microsoft.AspNetCore.Http;

namespace Cogrion.Sandbox.Cluster.Api;

/// <summary>Bearer tokens the API server accepts: the cluster admin's, and one per pod for its service account.</summary>
public sealed class TokenRegistry
{
    private readonly ConcurrentDictionary<string, UserInfo> tokens = new();

    public string Issue(UserInfo user)
    {
        var token = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-')
            .Replace('/', '_');
        tokens[token] = user;
        return token;
    }

    public void Revoke(string token) => tokens.TryRemove(token, out _);

    public UserInfo? Authenticate(string? authorization) =>
        authorization is { } header && header.StartsWith("Bearer ", StringComparison.Ordinal) && tokens.TryGetValue(header[7..].Trim(), out var user)
            ? user : null;
}

/// <summary>One API request, as the audit log records it: <paramref name="User"/> is who it acted as, <paramref name="ImpersonatedBy"/>
/// who authenticated when that was an impersonation (Kubernetes' audit has both, as user and impersonatedUser), and the HTTP
/// protocol it came over (HTTP/2 multiplexes watches).</summary>
public sealed record AuditEntry(DateTimeOffset At, string User, string Verb, string Path, int Code, string? ImpersonatedBy = null,
    string? Protocol = null);

/// <summary>
/// The simulated Kubernetes API server: the REST paths of the resources in <see cref="ResourceTypes"/>
/// (get, list with label selectors, create, server-side apply, JSON patch, update, delete), bearer-token
/// authentication, RBAC per request (<see cref="Rbac"/>) and Kubernetes' Status bodies for every error.
/// Custom kinds are served only while their CustomResourceDefinition is stored (<see cref="CustomResources"/>).
/// Served over HTTPS by <see cref="SimulatedCluster"/>, so a client talks to it as to a real cluster.
/// </summary>
public sealed class ApiServer(ObjectStore store, Rbac rbac, TokenRegistry tokens, string gitVersion, TimeProvider time, string? podsDirectory = null)
{
    private const int AuditKept = 2000;
    /// <summary>Quotes in messages as \" (Kubernetes is a Go program), not \u0022.</summary>
    private static readonly JsonSerializerOptions Encoding = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
    private readonly ConcurrentQueue<AuditEntry> audit = new();
    private CancellationTokenSource watchesOpen = new();

    /// <summary>
    /// How long a watch without timeoutSeconds stays open: the API server's --min-request-timeout (30 min), which it
    /// randomises up to twice that so a fleet of clients does not re-watch in one wave.
    /// </summary>
    public TimeSpan WatchTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How often a watch that allowed bookmarks gets one (the API server sends them about once a minute).</summary>
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Ends every open watch, as a restarting API server (or a load balancer's idle cut) does: each client sees its
    /// stream end and must watch again from the last resourceVersion it saw.
    /// </summary>
    public void CloseWatches()
    {
        // Cancelled, not disposed: a watch starting this instant may still be linking to it.
        Interlocked.Exchange(ref watchesOpen, new CancellationTokenSource()).Cancel();
    }

    /// <summary>The latest requests (at most 2,000), for tests and diagnostics.</summary>
    public IReadOnlyCollection<AuditEntry> Audit => audit;

    /// <summary>
    /// Holds every request that <paramref name="matches"/> (method and path) until the returned hold is disposed, as an API server
    /// that is slow to answer does (etcd under load, an admission webhook near its timeout): for tests of what a client does
    /// meanwhile. <see cref="RequestHold.Arrived"/> completes when the first such request is being held.
    /// </summary>
    public RequestHold Hold(Func<string, string, bool> matches)
    {
        var hold = new RequestHold(matches, h => holds.TryRemove(h, out _));
        holds[hold] = 0;
        return hold;
    }

    private readonly ConcurrentDictionary<RequestHold, byte> holds = new();

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        try
        {
            foreach (var hold in holds.Keys) await hold.WaitAsync(request.Method, request.Path.Value ?? "/", context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return; // The client gave up while held.
        }
        var user = tokens.Authenticate(request.Headers.Authorization);
        var path = request.Path.Value is { Length: > 1 } value ? value.TrimEnd('/') : "/";
        int code;
        string verb = request.Method;
        string? impersonatedBy = null;
        if (user is null)
        {
            code = await WriteStatusAsync(context, 401, "Unauthorized", "Unauthorized");
        }
        else if (request.Headers["Impersonate-User"].ToString() is { Length: > 0 } asUser)
        {
            (code, verb, var acting) = await ImpersonateAsync(context, user, asUser, path);
            if (!ReferenceEquals(acting, user)) (impersonatedBy, user) = (user.Name, acting);
        }
        else
        {
            (code, verb) = await DispatchAsync(context, user, path);
        }
        audit.Enqueue(new AuditEntry(time.GetUtcNow(), user?.Name ?? "system:anonymous", verb, path + request.QueryString.Value, code,
            impersonatedBy, request.Protocol));
        while (audit.Count > AuditKept) audit.TryDequeue(out _);
    }

    /// <summary>
    /// Kubernetes' impersonation: the authenticated user must be allowed to <c>impersonate</c> the named user (for a service
    /// account's name, the <c>serviceaccounts</c> resource in its namespace; otherwise <c>users</c>), and the request is then
    /// authorized as that user alone, with the groups Kubernetes gives a service account.
    /// </summary>
    private async Task<(int Code, string Verb, UserInfo User)> ImpersonateAsync(HttpContext context, UserInfo user, string asUser, string path)
    {
        var parts = asUser.Split(':');
        var isServiceAccount = parts is ["system", "serviceaccount", _, _];
        var (resource, ns, name) = isServiceAccount ? ("serviceaccounts", parts[2], parts[3]) : ("users", (string?)null, asUser);
        if (!rbac.Allows(user, new RequestAttributes("impersonate", "", resource, ns, name)))
        {
            var scope = ns is null ? "at the cluster scope" : $"in the namespace \"{ns}\"";
            var code = await ForbiddenAsync(context,
                $"{resource} \"{name}\" is forbidden: User \"{user.Name}\" cannot impersonate resource \"{resource}\" in API group \"\" {scope}",
                null, null);
            return (code, "impersonate", user);
        }
        var impersonated = isServiceAccount ? UserInfo.ServiceAccount(parts[2], parts[3]) : new UserInfo(asUser, ["system:authenticated"]);
        var (dispatched, verb) = await DispatchAsync(context, impersonated, path);
        return (dispatched, verb, impersonated);
    }

    private async Task<(int Code, string Verb)> DispatchAsync(HttpContext context, UserInfo user, string path)
    {
        var method = context.Request.Method;
        if (path is "/version" or "/healthz" or "/readyz" or "/livez")
        {
            if (!rbac.Allows(user, new RequestAttributes("get", "", "", null, null, path)))
                return (await ForbiddenAsync(context, $"forbidden: User \"{user.Name}\" cannot get path \"{path}\"", null, null), "get");
            if (path == "/version")
            {
                var parts = gitVersion.TrimStart('v').Split('.', '-');
                await WriteJsonAsync(context, 200, new JsonObject
                {
                    ["major"] = parts[0],
                    ["minor"] = parts.Length > 1 ? parts[1] : "0",
                    ["gitVersion"] = gitVersion,
                    ["platform"] = "linux/amd64",
                });
            }
            else
            {
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync("ok");
            }
            return (200, "get");
        }

        if (!TryParse(path, out var type, out var ns, out var name, out var subresource))
            return (await WriteStatusAsync(context, 404, "NotFound", "the server could not find the requested resource"), method.ToLowerInvariant());
        if (subresource == "log" && type == ResourceTypes.Pod && name is not null && ns is not null && method == "GET")
        {
            if (!rbac.Allows(user, new RequestAttributes("get", "", "pods/log", ns, name)))
                return (await ForbiddenAsync(context,
                    $"pods \"{name}\" is forbidden: User \"{user.Name}\" cannot get resource \"pods/log\" in API group \"\" " +
                    $"in the namespace \"{ns}\"",
                    type, name), "get");
            return (await PodLogAsync(context, ns, name), "get");
        }
        if (subresource is not null)
            return (await WriteStatusAsync(context, 404, "NotFound", $"the sandbox does not serve the {subresource} subresource of {type!.Plural}"),
                method.ToLowerInvariant());

        var verb = (method, name) switch
        {
            ("GET", null) => context.Request.Query["watch"] == "true" ? "watch" : "list",
            ("GET", _) => "get",
            ("POST", null) => "create",
            ("PATCH", not null) => "patch",
            ("PUT", not null) => "update",
            ("DELETE", not null) => "delete",
            _ => "",
        };
        if (verb.Length == 0)
            return (await WriteStatusAsync(context, 405, "MethodNotAllowed",
                $"the server does not allow this method on the requested resource ({method} {path})"), method.ToLowerInvariant());

        var requestNamespace = type == ResourceTypes.Namespace ? name : ns;
        if (!rbac.Allows(user, new RequestAttributes(verb, type!.Group, type.Plural, requestNamespace, name)))
        {
            var what = name is null ? type.QualifiedPlural : $"{type.QualifiedPlural} \"{name}\"";
            var scope = type.Namespaced && ns is not null ? $"in the namespace \"{ns}\"" : "at the cluster scope";
            return (await ForbiddenAsync(context,
                $"{what} is forbidden: User \"{user.Name}\" cannot {verb} resource \"{type.Plural}\" in API group \"{type.Group}\" {scope}", type,
                    name), verb);
        }

        // After authorization, as the real API server's handler chain runs: a custom kind without its CRD is a path nothing
        // serves (kubectl: "the server could not find the requested resource"), whatever the verb.
        if (!CustomResources.Served(store, type))
            return (await WriteStatusAsync(context, 404, "NotFound", "the server could not find the requested resource", new JsonObject()), verb);

        try
        {
            return verb switch
            {
                "get" => (await GetAsync(context, type, ns, name!), verb),
                "list" => (await ListAsync(context, type, ns), verb),
                "watch" => (await WatchAsync(context, type, ns), verb),
                "delete" => (await DeleteAsync(context, type, ns, name!), verb),
                _ => (await WriteAsync(context, user, type, ns, name, verb), verb),
            };
        }
        catch (PatchException ex)
        {
            return (await WriteStatusAsync(context, ex.Code, ex.Code == 422 ? "Invalid" : "BadRequest", ex.Message), verb);
        }
        catch (JsonException ex)
        {
            return (await WriteStatusAsync(context, 400, "BadRequest", $"the body of the request could not be decoded as JSON: {ex.Message}"), verb);
        }
    }

    /// <summary>
    /// pods/{name}/log as the API server answers it: text/plain, the container's output (the kubelet's
    /// container.log), the last tailLines lines when asked; 400 for a container the pod does not have, or one
    /// that has not started; a pod of several containers needs the container named.
    /// </summary>
    private async Task<int> PodLogAsync(HttpContext context, string ns, string name)
    {
        var pod = store.Get(ResourceTypes.Pod, ns, name);
        if (pod is null) return await NotFoundAsync(context, ResourceTypes.Pod, name);
        var containers = (pod["spec"]?["containers"] as JsonArray ?? []).Select(c => c?["name"]?.GetValue<string>() ?? "").ToList();
        var container = context.Request.Query["container"].FirstOrDefault();
        if (string.IsNullOrEmpty(container))
        {
            if (containers.Count != 1)
                return await WriteStatusAsync(context, 400, "BadRequest",
                    $"a container name must be specified for pod {name}, choose one of: [{string.Join(" ", containers)}]");
            container = containers[0];
        }
        if (!containers.Contains(container))
            return await WriteStatusAsync(context, 400, "BadRequest", $"container {container} is not valid for pod {name}");
        // The kubelet runs a pod's first container; its output is the pod's container.log.
        var file = podsDirectory is null ? null : Path.Combine(podsDirectory, $"{ns}_{name}", "container.log");
        if (file is null || container != containers[0] || !File.Exists(file))
            return await WriteStatusAsync(context, 400, "BadRequest",
                $"container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating");
        string[] lines;
        await using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        using (var reader = new StreamReader(stream))
            lines = (await reader.ReadToEndAsync(context.RequestAborted)).Split('\n');
        if (lines.Length > 0 && lines[^1].Length == 0) lines = lines[..^1];
        if (int.TryParse(context.Request.Query["tailLines"].FirstOrDefault(), out var tail) && tail >= 0 && tail < lines.Length)
            lines = lines[^tail..];
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync(string.Concat(lines.Select(l => l + "\n")), context.RequestAborted);
        return 200;
    }

    private async Task<int> GetAsync(HttpContext context, ResourceType type, string? ns, string name)
    {
        var found = store.Get(type, ns, name);
        if (found is null) return await NotFoundAsync(context, type, name);
        await WriteJsonAsync(context, 200, found);
        return 200;
    }

    private async Task<int> ListAsync(HttpContext context, ResourceType type, string? ns)
    {
        // Read before the items: a watch from this version then misses nothing written while listing.
        var version = store.ResourceVersion;
        var items = store.List(type, ns, context.Request.Query["labelSelector"].FirstOrDefault());
        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["kind"] = type.Kind + "List",
            ["apiVersion"] = type.ApiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture) },
            ["items"] = new JsonArray(items.Select(i => (JsonNode)i).ToArray()),
        });
        return 200;
    }

    /// <summary>
    /// A watch (?watch=true), as the API server streams it: HTTP 200 at once, then one JSON event per line
    /// ({"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":...}). Without a resourceVersion (or "0") it starts with
    /// the current objects as ADDED; with one, it sends the changes after it, or, when that version has left the window
    /// the store keeps, a single ERROR event with a 410 Expired Status and ends. A label selector turns an object that
    /// stops matching into a DELETED and one that starts matching into an ADDED. It ends after timeoutSeconds (else the
    /// server's randomised timeout) or when <see cref="CloseWatches"/> is called.
    /// </summary>
    private async Task<int> WatchAsync(HttpContext context, ResourceType type, string? ns)
    {
        var query = context.Request.Query;
        var selector = query["labelSelector"].FirstOrDefault();
        var bookmarks = query["allowWatchBookmarks"].FirstOrDefault() == "true";
        var requested = query["resourceVersion"].FirstOrDefault();
        TimeSpan timeout;
        if (query["timeoutSeconds"].FirstOrDefault() is { Length: > 0 } seconds)
        {
            if (!int.TryParse(seconds, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                return await WriteStatusAsync(context, 400, "BadRequest", $"timeoutSeconds: Invalid value: \"{seconds}\"");
            timeout = TimeSpan.FromSeconds(value);
        }
        else timeout = WatchTimeout * (1 + Random.Shared.NextDouble());
        long from;
        List<JsonObject> initial = [];
        if (string.IsNullOrEmpty(requested) || requested == "0")
        {
            from = store.ResourceVersion;
            initial = store.List(type, ns, selector);
        }
        else if (!long.TryParse(requested, NumberStyles.None, CultureInfo.InvariantCulture, out from))
        {
            return await WriteStatusAsync(context, 400, "BadRequest", $"resourceVersion: Invalid value: \"{requested}\": must be a number");
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, watchesOpen.Token);
        ending.CancelAfter(timeout);
        var body = context.Response.Body;
        try
        {
            // The headers go now, as the API server's do: the client knows the watch is open before any event.
            await context.Response.StartAsync(ending.Token);
            foreach (var item in initial) await WriteEventAsync(body, "ADDED", item, ending.Token);
            var lastBookmark = time.GetTimestamp();
            while (true)
            {
                var next = store.NextChange;
                // Asked before the changes are read: a CRD deletion removes its objects and records their DELETED events in
                // one step, so once the kind is seen unserved here the read below holds every one of them. Asked after the
                // read, a deletion landing in between would end the watch before its events were sent.
                var served = CustomResources.Served(store, type);
                var (changes, through) = store.ChangesAfter(type, ns, from);
                if (changes is null)
                {
                    await WriteEventAsync(body, "ERROR", new JsonObject
                    {
                        ["kind"] = "Status",
                        ["apiVersion"] = "v1",
                        ["metadata"] = new JsonObject(),
                        ["status"] = "Failure",
                        ["message"] = $"too old resource version: {from} ({store.OldestWatchable})",
                        ["reason"] = "Expired",
                        ["code"] = 410,
                    }, ending.Token);
                    break;
                }
                foreach (var change in changes)
                    if (EventType(change, selector) is { } eventType) await WriteEventAsync(body, eventType, change.Object, ending.Token);
                from = through;
                // The kind's CRD was deleted (its objects' DELETED events were just sent): the API server ends the watch.
                if (!served) break;
                if (bookmarks && time.GetElapsedTime(lastBookmark) >= BookmarkInterval)
                {
                    await WriteEventAsync(body, "BOOKMARK", new JsonObject
                    {
                        ["kind"] = type.Kind,
                        ["apiVersion"] = type.ApiVersion,
                        ["metadata"] = new JsonObject { ["resourceVersion"] = from.ToString(CultureInfo.InvariantCulture) },
                    }, ending.Token);
                    lastBookmark = time.GetTimestamp();
                }
                await body.FlushAsync(ending.Token);
                var untilBookmark = bookmarks ? BookmarkInterval - time.GetElapsedTime(lastBookmark) : Timeout.InfiniteTimeSpan;
                try
                {
                    await next.WaitAsync(untilBookmark < TimeSpan.Zero ? TimeSpan.Zero : untilBookmark, time, ending.Token);
                }
                catch (TimeoutException)
                {
                    // Time for a bookmark.
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // Timed out, closed by the server, or the client went away: the stream simply ends.
        }
        return 200;
    }

    /// <summary>What a change looks like through a watch with this label selector (null: nothing to send).</summary>
    private static string? EventType(StoredChange change, string? selector)
    {
        var matches = LabelSelector.Matches(change.Object["metadata"]?["labels"] as JsonObject, selector);
        if (change.Kind == ChangeKind.Deleted) return matches ? "DELETED" : null;
        var matched = change.Kind == ChangeKind.Modified && LabelSelector.Matches(change.PreviousLabels, selector);
        return (matched, matches) switch
        {
            (true, true) => "MODIFIED",
            (false, true) => "ADDED",
            (true, false) => "DELETED",
            _ => null,
        };
    }

    private static async Task WriteEventAsync(Stream body, string type, JsonObject item, CancellationToken cancellationToken)
    {
        var line = $"{{\"type\":\"{type}\",\"object\":{item.ToJsonString(Encoding)}}}\n";
        await body.WriteAsync(System.Text.Encoding.UTF8.GetBytes(line), cancellationToken);
    }

    private async Task<int> DeleteAsync(HttpContext context, ResourceType type, string? ns, string name)
    {
        var found = store.Get(type, ns, name);
        if (found is null || !store.Delete(type, ns, name)) return await NotFoundAsync(context, type, name);
        if (type.Kind == "Service")
        {
            // Kubernetes answers a Service's deletion with the Service itself (clients read it as one), other kinds with a Status.
            await WriteJsonAsync(context, 200, found);
            return 200;
        }
        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = new JsonObject { ["name"] = name, ["kind"] = type.Plural, ["uid"] = found["metadata"]?["uid"]?.DeepClone() },
        });
        return 200;
    }

    private async Task<int> WriteAsync(HttpContext context, UserInfo user, ResourceType type, string? ns, string? name, string verb)
    {
        var contentType = (context.Request.ContentType ?? "").Split(';')[0].Trim();
        var body = await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted);
        var existing = name is null ? null : store.Get(type, ns, name);
        JsonObject desired;
        switch (verb)
        {
            case "patch" when contentType == "application/apply-patch+yaml":
                if (string.IsNullOrEmpty(context.Request.Query["fieldManager"]))
                    return await WriteStatusAsync(context, 400, "BadRequest", "PATCH, fieldManager is required for apply requests");
                desired = ServerSideApply.Apply(existing, ParseObject(body, "the sandbox reads apply bodies written as JSON (which is YAML too)"),
                    context.Request.Query["fieldManager"].ToString(), ObjectStore.Timestamp(time.GetUtcNow()));
                break;
            case "patch" when contentType is "application/strategic-merge-patch+json" or "application/merge-patch+json":
                if (existing is null) return await NotFoundAsync(context, type, name!);
                desired = ServerSideApply.Merge(existing, ParseObject(body, null));
                break;
            case "patch" when contentType == "application/json-patch+json":
                if (existing is null) return await NotFoundAsync(context, type, name!);
                desired = JsonPatch.Apply(existing, JsonNode.Parse(body) as JsonArray
                    ?? throw new PatchException(400, "a JSON patch is an array of operations"));
                break;
            case "patch":
                return await WriteStatusAsync(context, 415, "UnsupportedMediaType",
                    $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, " +
                    $"application/merge-patch+json, application/apply-patch+yaml");
            case "create":
                desired = ParseObject(body, null);
                name = desired["metadata"]?["name"]?.GetValue<string>();
                if (string.IsNullOrEmpty(name)) return await WriteStatusAsync(context, 422, "Invalid",
                    $"{type.Kind} \"\" is invalid: metadata.name: Required value: name or generateName is required");
                existing = store.Get(type, ns, name);
                if (existing is not null) return await WriteStatusAsync(context, 409, "AlreadyExists",
                    $"{type.QualifiedPlural} \"{name}\" already exists");
                break;
            default: // update
                if (existing is null) return await NotFoundAsync(context, type, name!);
                desired = ParseObject(body, null);
                break;
        }

        var bodyName = desired["metadata"]?["name"]?.GetValue<string>();
        if (bodyName is not null && bodyName != name)
            return await WriteStatusAsync(context, 400, "BadRequest",
                $"the name of the object ({bodyName}) does not match the name on the URL ({name})");
        if (desired["kind"]?.GetValue<string>() is { } kind && kind != type.Kind)
            return await WriteStatusAsync(context, 400, "BadRequest", $"the object's kind {kind} does not match the resource {type.Plural}");
        var bodyNamespace = desired["metadata"]?["namespace"]?.GetValue<string>();
        if (type.Namespaced && bodyNamespace is not null && bodyNamespace != ns)
            return await WriteStatusAsync(context, 400, "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the request");
        if (type.Namespaced && store.Get(ResourceTypes.Namespace, null, ns!) is null)
            return await NotFoundAsync(context, ResourceTypes.Namespace, ns!);

        var refusal = type == ResourceTypes.RoleBinding || type == ResourceTypes.ClusterRoleBinding ? rbac.RefuseBinding(user, desired, ns)
            : type == ResourceTypes.Role || type == ResourceTypes.ClusterRole ? rbac.RefuseRole(user, desired, ns, type.Plural)
            : null;
        if (refusal is not null)
            return await ForbiddenAsync(context, $"{type.QualifiedPlural} \"{name}\" is forbidden: {refusal}", type, name);

        // Like the API server: stringData is a write-only convenience, stored as base64 data.
        if (type == ResourceTypes.Secret && desired["stringData"] is JsonObject stringData)
        {
            var data = desired["data"] as JsonObject ?? [];
            foreach (var (key, value) in stringData) data[key] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(value?.GetValue<string>()
                ?? ""));
            desired["data"] = data;
            desired.Remove("stringData");
        }
        // Status belongs to the controllers and the kubelet, not to clients.
        var status = existing?["status"]?.DeepClone();
        desired.Remove("status");
        if (status is not null) desired["status"] = status;
        else if (type == ResourceTypes.Namespace) desired["status"] = new JsonObject { ["phase"] = "Active" };
        if (type == ResourceTypes.CustomResourceDefinition)
            desired["status"] = CustomResources.Status(desired, ObjectStore.Timestamp(time.GetUtcNow()));
        var (stored, created) = store.Write(type, ns, name!, _ => desired);
        var code = created ? 201 : 200;
        await WriteJsonAsync(context, code, stored);
        return code;
    }

    private static JsonObject ParseObject(string body, string? hint) =>
        (JsonNode.Parse(body) as JsonObject) ?? throw new PatchException(400, hint ?? "the body must be a JSON object");

    /// <summary>/api/v1/[namespaces/{ns}/]{plural}[/{name}[/{sub}]] and /apis/{group}/{version}/... .</summary>
    internal static bool TryParse(string path, out ResourceType? type, out string? ns, out string? name, out string? subresource)
    {
        type = null; ns = null; name = null; subresource = null;
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        int rest;
        string group, version;
        if (segments.Length >= 3 && segments[0] == "api" && segments[1] == "v1") { group = ""; version = "v1"; rest = 2; }
        else if (segments.Length >= 4 && segments[0] == "apis") { group = segments[1]; version = segments[2]; rest = 3; }
        else return false;
        var tail = segments[rest..];
        if (tail.Length >= 3 && tail[0] == "namespaces" && ResourceTypes.ByPath(group, version, tail[2]) is { Namespaced: true } namespaced)
        {
            type = namespaced;
            ns = tail[1];
            name = tail.Length > 3 ? tail[3] : null;
            subresource = tail.Length > 4 ? string.Join('/', tail[4..]) : null;
            return tail.Length <= 5;
        }
        type = ResourceTypes.ByPath(group, version, tail[0]);
        if (type is null) return false;
        name = tail.Length > 1 ? tail[1] : null;
        subresource = tail.Length > 2 ? string.Join('/', tail[2..]) : null;
        // A namespaced resource without a namespace is the list across all namespaces; it names no object.
        return !(type.Namespaced && name is not null) && tail.Length <= 3;
    }

    private static Task<int> NotFoundAsync(HttpContext context, ResourceType type, string name) =>
        WriteStatusAsync(context, 404, "NotFound", $"{type.QualifiedPlural} \"{name}\" not found",
            new JsonObject { ["name"] = name, ["group"] = type.Group, ["kind"] = type.Plural });

    private static Task<int> ForbiddenAsync(HttpContext context, string message, ResourceType? type, string? name) =>
        WriteStatusAsync(context, 403, "Forbidden", message,
            type is null ? null : new JsonObject { ["name"] = name, ["group"] = type.Group, ["kind"] = type.Plural });

    /// <summary>Kubernetes' error body: a v1 Status with the reason and the code.</summary>
    private static async Task<int> WriteStatusAsync(HttpContext context, int code, string reason, string message, JsonObject? details = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = code,
        };
        if (details is not null) status["details"] = details;
        await WriteJsonAsync(context, code, status);
        return code;
    }

    private static async Task WriteJsonAsync(HttpContext context, int code, JsonObject body)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(Encoding));
    }
}

/// <summary>A hold on some of the API server's requests (<see cref="ApiServer.Hold"/>); disposing it lets them through.</summary>
public sealed class RequestHold(Func<string, string, bool> matches, Action<RequestHold> removed) : IDisposable
{
    private readonly TaskCompletionSource arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Arrived => arrived.Task;

    internal async Task WaitAsync(string method, string path, CancellationToken cancellationToken)
    {
        if (!matches(method, path)) return;
        arrived.TrySetResult();
        await released.Task.WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        removed(this);
        released.TrySetResult();
    }
}
