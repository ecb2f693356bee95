using System.Text.Json.Nodes;
using Cogrion.Portal.Infrastructure.Database;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

public enum TofuProvider
{
    Aws,
    [EnumText("alicloud")] AliCloud,

    /// <summary>Simulated: the same root module and commands, served by the <c>tofu-sandbox</c> executable.</summary>
    Sandbox,
}

public enum TofuOperation
{
    /// <summary>Plan and apply the configuration.</summary>
    Apply,

    /// <summary>Plan with <c>-destroy</c> and apply that: every resource of the workspace goes.</summary>
    Destroy,
}

/// <summary>
/// The tenant's role that every run assumes afresh. There are no keys here on purpose: the Portal's own
/// identity (from its environment) assumes this role, and the external ID proves the request comes
/// from the Portal on behalf of this tenant (the confused-deputy guard).
/// </summary>
public sealed record AssumedRole(string RoleArn, string ExternalId, string SessionName);

/// <summary>Where the workspace's state lives. Each backend locks the state while a run holds it.</summary>
public abstract record TofuBackend;

/// <summary>The tenant's S3 bucket, locked with a lock file beside the state (OpenTofu 1.10+).</summary>
public sealed record S3Backend(string Bucket, string Key, string Region, AssumedRole Role) : TofuBackend;

/// <summary>
/// The tenant's OSS bucket, locked through a Tablestore table (OSS itself has no conditional writes).
/// The backend reaches it with the session the runner assumed for the run's <see cref="TofuRunRequest.Role"/>
/// (docs/adr/0052): OpenTofu's oss backend cannot send an external ID itself, so it carries no role.
/// </summary>
public sealed record OssBackend(string Bucket, string Prefix, string Key, string Region, string TablestoreEndpoint, string TablestoreTable)
    : TofuBackend;

/// <summary>
/// A state file on the Portal's disk: only for the sandbox, whose "cloud" is the simulator. Lives
/// outside the run's working directory so that it outlives the run, as a bucket would.
/// </summary>
public sealed record LocalBackend(string Path) : TofuBackend;

/// <summary>An output of the module that the root module passes on. Sensitive ones must say so: OpenTofu refuses otherwise.</summary>
public sealed record TofuOutputDeclaration(string Name, bool Sensitive = false);

/// <summary>One run of the workspace's module.</summary>
public sealed record TofuRunRequest
{
    /// <summary>An empty or reusable directory for this run; the runner writes the root module into it.</summary>
    public required string WorkingDirectory { get; init; }

    /// <summary>The module to call (terraform/aws or terraform/alicloud), as a directory on disk.</summary>
    public required string ModuleSource { get; init; }

    public required TofuProvider Provider { get; init; }
    public required string Region { get; init; }
    public required AssumedRole Role { get; init; }
    public required TofuBackend Backend { get; init; }

    /// <summary>The module's inputs that are not secret; they are written into main.tf.json.</summary>
    public required JsonObject Variables { get; init; }

    /// <summary>
    /// Secret inputs (the agent's bootstrap token). Written only to a variables file that is deleted as
    /// soon as the plan exists, declared sensitive so OpenTofu hides them, and masked in every log line.
    /// </summary>
    public JsonObject SensitiveVariables { get; init; } = [];

    public IReadOnlyList<TofuOutputDeclaration> Outputs { get; init; } = [];
    public TofuOperation Operation { get; init; } = TofuOperation.Apply;

    /// <summary>
    /// Extra environment for <c>tofu</c> (e.g. a plugin cache). Never credentials: roles are assumed, by
    /// the root module (AWS) or by the runner through its <see cref="ITofuSessionSource"/> (AliCloud).
    /// </summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
}
