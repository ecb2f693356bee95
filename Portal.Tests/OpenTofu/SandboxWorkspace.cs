using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Cogrion.Portal.Infrastructure.Processes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Tests.OpenTofu;

/// <summary>
/// A sandbox workspace on disk for runner tests: a module directory, a state directory standing in
/// for the bucket, and a fresh working directory per run; the real runner with the real process
/// boundary, pointed at the real tofu-sandbox built next to the tests. Beside the stand-in module lies
/// the real Cluster Agent install (terraform/modules/cluster-agent), and the workspace's simulated
/// cluster serves next to its state, so an apply installs the agent's objects into it for real.
/// </summary>
public sealed class SandboxWorkspace : IDisposable
{
    public const string BootstrapToken = "bootstrap-token-5d2e7a91c4";
    public const string SensitiveOutput = "admin_password";

    private readonly string root = Directory.CreateTempSubdirectory("cogrion-tofu-test-").FullName;
    private int runs;

    public SandboxWorkspace(string name = "acme-dev")
    {
        Name = name;
        Directory.CreateDirectory(ModuleDirectory);
        File.WriteAllText(Path.Combine(ModuleDirectory, "main.tf"), "# stands in for terraform/aws: the sandbox never reads it\n");
        Directory.CreateDirectory(BootstrapModuleDirectory);
        File.WriteAllText(Path.Combine(BootstrapModuleDirectory, "main.tf"), "# stands in for terraform/aws/bootstrap: the sandbox never reads it\n");
        var agentModule = Path.Combine(root, "terraform", "modules", "cluster-agent");
        Directory.CreateDirectory(agentModule);
        File.Copy(Infrastructure.AgentProcess.TemplatePath, Path.Combine(agentModule, Cogrion.Agent.Protocol.InstallTemplate.FileName));
        // Flux's module: the two files its main.tf gives helm_release, which the sandbox reads too.
        var fluxModule = Path.Combine(root, "terraform", "modules", "flux");
        Directory.CreateDirectory(fluxModule);
        foreach (var file in new[] { Cogrion.Sandbox.FluxInstall.ChartFile, Cogrion.Sandbox.FluxInstall.ValuesFile })
            File.Copy(Path.Combine(Infrastructure.RepoPaths.Root, "terraform", "modules", "flux", file), Path.Combine(fluxModule, file));
        var clusterDirectory = Path.Combine(Path.GetDirectoryName(StatePath)!, "cluster");
        Cluster = Cogrion.Sandbox.Cluster.SimulatedCluster.StartAsync(new Cogrion.Sandbox.Cluster.ClusterOptions { Directory = clusterDirectory })
            .GetAwaiter().GetResult();
        File.WriteAllText(Path.Combine(clusterDirectory, "kubeconfig"), Cluster.Kubeconfig());
    }

    /// <summary>The workspace's simulated cluster (no agent image in its registry: the agent's pod waits in ErrImagePull).</summary>
    public Cogrion.Sandbox.Cluster.SimulatedCluster Cluster { get; }

    public string Name { get; }
    public string ModuleDirectory => Path.Combine(root, "terraform", "aws");
    public string StatePath => Path.Combine(root, "state", Name, "terraform.tfstate");
    public string BootstrapModuleDirectory => Path.Combine(ModuleDirectory, "bootstrap");

    /// <summary>Where a bootstrap's state goes after migration: the sandbox's stand-in for the account's state bucket.</summary>
    public string BackendStatePath => Path.Combine(root, "state", "backends", "account-eu-central-1", "terraform.tfstate");
    public string LastWorkingDirectory { get; private set; } = "";

    public OpenTofuOptions Options { get; } = new()
    {
        SandboxExecutable = Path.Combine(AppContext.BaseDirectory, "tofu-sandbox"),
        // Fast: a whole workspace in well under a second of simulated pacing.
        SandboxSpeed = 5000,
        CancelGracePeriod = TimeSpan.FromSeconds(30),
    };

    /// <summary>
    /// The runner; without <paramref name="sessions"/> no process gets a session (the sandbox and AWS
    /// need none). <paramref name="cli"/> may wrap the real process boundary, to watch what it starts.
    /// </summary>
    public TofuRunner Runner(ITofuSessionSource? sessions = null, Func<ITofuCli, ITofuCli>? cli = null, TimeProvider? time = null)
    {
        var options = Microsoft.Extensions.Options.Options.Create(Options);
        ITofuCli processes = new TofuProcessCli(new LifelineLauncher(NullLogger<LifelineLauncher>.Instance), options, TimeProvider.System,
            NullLogger<TofuProcessCli>.Instance);
        return new TofuRunner(cli is null ? processes : cli(processes), sessions ?? NoTofuSessions.Instance, options, time ?? TimeProvider.System,
            NullLogger<TofuRunner>.Instance);
    }

    public TofuRunRequest Request(TofuOperation operation = TofuOperation.Apply, bool database = true, TofuProvider provider = TofuProvider.Sandbox,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        LastWorkingDirectory = Path.Combine(root, "runs", $"run-{++runs}");
        return new TofuRunRequest
        {
            WorkingDirectory = LastWorkingDirectory,
            ModuleSource = ModuleDirectory,
            Provider = provider,
            Region = "eu-central-1",
            Role = new AssumedRole("arn:aws:iam::000000000000:role/cogrion-sandbox", "sandbox-external-id-1", "cogrion-test"),
            Backend = new LocalBackend(StatePath),
            Operation = operation,
            Variables = new JsonObject
            {
                ["tenant_id"] = "7b0c6d0e-0000-4000-8000-000000000001",
                ["workspace_id"] = "7b0c6d0e-0000-4000-8000-000000000002",
                ["workspace_name"] = Name,
                ["region"] = "eu-central-1",
                ["network_cidr"] = "10.40.0.0/16",
                ["kubernetes_version"] = "1.31",
                ["node_pools"] = new JsonArray(new JsonObject
                {
                    ["name"] = "default",
                    ["instance_type"] = "m6i.large",
                    ["min_size"] = 1,
                    ["max_size"] = 3
                }),
                ["use_karpenter"] = false,
                ["database"] = database ? new JsonObject { ["engine"] = "postgres", ["instance_class"] = "db.m6g.large", ["storage_gb"] = 50 } : null,
                ["portal_url"] = "http://127.0.0.1:5080",
            },
            SensitiveVariables = new JsonObject { ["agent_bootstrap_token"] = BootstrapToken },
            Outputs = [new("cluster_name"), new("vpc_id"), new("database_endpoint"), new(SensitiveOutput, Sensitive: true)],
            Environment = environment ?? new Dictionary<string, string>(),
        };
    }

    /// <summary>
    /// A run of terraform/aws/bootstrap as ADR 0041 describes it: the account's role, the module's three
    /// inputs, and by default the local backend in the run's own working directory.
    /// </summary>
    public TofuRunRequest BootstrapRequest(string roleArn = "", string? workingDirectory = null, TofuBackend? backend = null)
    {
        LastWorkingDirectory = workingDirectory ?? Path.Combine(root, "runs", $"run-{++runs}");
        return new TofuRunRequest
        {
            WorkingDirectory = LastWorkingDirectory,
            ModuleSource = BootstrapModuleDirectory,
            Provider = TofuProvider.Sandbox,
            Region = "eu-central-1",
            Role = new AssumedRole(roleArn, "sandbox-external-id-1", "cogrion-bootstrap"),
            Backend = backend ?? new LocalBackend(Path.Combine(LastWorkingDirectory, "terraform.tfstate")),
            Variables = new JsonObject
            {
                ["tenant_id"] = "7b0c6d0e-0000-4000-8000-000000000001",
                ["cloud_account_id"] = "7b0c6d0e-0000-4000-8000-000000000003",
                ["region"] = "eu-central-1",
            },
            Outputs = [new("state_bucket"), new("state_region"), new("kms_key_arn")],
        };
    }

    /// <summary>Rewrites backend.tf.json to keep the state at another path, as the runner does before migrating the bootstrap's state.</summary>
    public static Task MoveBackendAsync(string workingDirectory, string statePath) =>
        File.WriteAllTextAsync(Path.Combine(workingDirectory, RootModuleWriter.BackendFile), RootModuleWriter.Backend(new LocalBackend(statePath))
            .ToJsonString());

    /// <summary>
    /// Runs tofu-sandbox with the given arguments through the real process boundary, for the command
    /// lines the runner does not issue itself (init -migrate-state). Returns the exit code and every line.
    /// </summary>
    public async Task<(int ExitCode, string Output)> TofuAsync(string workingDirectory, params string[] arguments)
    {
        var cli = new TofuProcessCli(new LifelineLauncher(NullLogger<LifelineLauncher>.Instance),
            Microsoft.Extensions.Options.Options.Create(Options), TimeProvider.System, NullLogger<TofuProcessCli>.Instance);
        var environment = new Dictionary<string, string> { ["TOFU_SANDBOX_SPEED"] = Options.SandboxSpeed.ToString(CultureInfo.InvariantCulture) };
        var output = new StringBuilder();
        var exitCode = -1;
        await foreach (var item in cli.RunAsync(new TofuInvocation(Options.SandboxExecutable, arguments, workingDirectory, environment),
            CancellationToken.None))
        {
            if (item is TofuOutputLine line) output.AppendLine(line.Text);
            else if (item is TofuExited exited) exitCode = exited.ExitCode;
        }
        return (exitCode, output.ToString());
    }

    /// <summary>The sandbox's cloud console for this workspace (docs/sandbox.md): what was changed by hand, next to the state.</summary>
    public string OutsideChangesPath => StatePath + ".outside.json";

    /// <summary>Changes objects "by hand", behind OpenTofu's back: <paramref name="changed"/> maps an address to its new attribute values.</summary>
    public Task ChangeOutsideOpenTofuAsync(IReadOnlyList<string>? deleted = null, IReadOnlyDictionary<string, JsonObject>? changed = null) =>
        File.WriteAllTextAsync(OutsideChangesPath, new JsonObject
        {
            ["deleted"] = new JsonArray((deleted ?? []).Select(a => (JsonNode)a).ToArray()),
            ["changed"] = new JsonObject((changed ?? new Dictionary<string, JsonObject>())
                .Select(c => KeyValuePair.Create(c.Key, (JsonNode?)c.Value.DeepClone()))),
        }.ToJsonString());

    /// <summary>The addresses of the resources a state file holds.</summary>
    public static IReadOnlyList<string> AddressesInState(string statePath) =>
        File.Exists(statePath)
            ? JsonNode.Parse(File.ReadAllText(statePath))!["resources"]!.AsArray()
                .Select(r => (r!["module"] is { } module ? module.GetValue<string>() + "." : "") + r["type"]!.GetValue<string>() + "."
                    + r["name"]!.GetValue<string>()
                    + (r["instances"]![0]!["index_key"] is JsonValue key ? $"[{key.ToJsonString()}]" : ""))
                .ToList()
            : [];

    /// <summary>The sensitive output's value, read the way OpenTofu keeps it: in the state, in the "bucket".</summary>
    public string? SensitiveOutputValueInState() =>
        File.Exists(StatePath) ? JsonNode.Parse(File.ReadAllText(StatePath))?["outputs"]?[SensitiveOutput]?["value"]?.GetValue<string>() : null;

    public int ResourcesInState() =>
        File.Exists(StatePath) ? (JsonNode.Parse(File.ReadAllText(StatePath))?["resources"]?.AsArray().Count ?? 0) : 0;

    public void Dispose()
    {
        Cluster.DisposeAsync().AsTask().GetAwaiter().GetResult();
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>No sessions at all: what the sandbox and AWS get from the real source anyway.</summary>
public sealed class NoTofuSessions : ITofuSessionSource
{
    public static NoTofuSessions Instance { get; } = new();

    public Task<TofuSession> SessionForAsync(TofuRunRequest request, CancellationToken cancellationToken) => Task.FromResult(TofuSession.None);
}
