namespace Cogrion.Portal.Tests.Architecture;

/// <summary>
/// What may depend on what (docs/architecture.md): infrastructure and shared controls never on a
/// feature; features on infrastructure, shared controls and the features in <see cref="AllowedFeatureEdges"/>
/// only, never in a cycle; the job engine (Cogrion.Jobs) on nothing of the Portal. The app shell
/// (Hosting, Components' layouts and pages, Program) puts everything together and may use anything.
/// </summary>
public sealed class DependencyTests
{
    /// <summary>
    /// Every feature-to-feature dependency there is, each with its reason. A new one is a decision:
    /// move what two features share to Infrastructure, invert it (an interface or an extension point
    /// the other feature implements, as onboarding steps do), or add it here with its reason.
    /// </summary>
    private static readonly IReadOnlyDictionary<(string From, string To), string> AllowedFeatureEdges = new Dictionary<(string, string), string>
    {
        [("Agents", "Tenants")] = "the fleet shows each agent's tenant",
        [("Audit", "Tenants")] = "a tenant's trail is read within the tenant's access rules",
        [("CloudAccounts", "Onboarding")] = "connecting an account is an onboarding step",
        [("CloudAccounts", "Tenants")] = "accounts belong to a tenant",
        [("Dashboard", "Tenants")] = "the dashboard is a tenant's",
        [("Dashboard", "Workspaces")] = "it lists the tenant's workspaces",
        [("Offboarding", "Agents")] = "leaving uninstalls each agent by a signed command and revokes its credentials",
        [("Offboarding", "CloudAccounts")] = "the final check runs the account's own verification, which must now fail",
        [("Offboarding", "Tenants")] = "only a tenant's admin starts its offboarding, from the tenant's settings",
        [("Offboarding", "Workspaces")] = "leaving removes apps and destroys workspaces through their own commands (plan, approval)",
        [("Onboarding", "Tenants")] = "onboarding creates the organisation",
        [("Secrets", "Agents")] = "secrets are delivered as agent commands, to the key an agent published",
        [("Secrets", "Tenants")] = "a workspace's secrets are read and changed within the tenant's access rules",
        [("Support", "Agents")] = "grants, revocations and support reads are agent commands, verified and enforced by the agent",
        [("Support", "Tenants")] = "support access is approved and watched within the tenant's access rules",
        [("Workspaces", "Agents")] = "a workspace shows its agent and mints its bootstrap token",
        [("Workspaces", "CloudAccounts")] = "a workspace runs in a cloud account",
        [("Workspaces", "Onboarding")] = "the first workspace is an onboarding step",
        [("Workspaces", "Secrets")] = "an app's secret values are sealed and relayed through the secrets channel",
        [("Workspaces", "Tenants")] = "workspaces belong to a tenant",
    };

    private static readonly Lazy<SourceTree> Portal = new(() => SourceTree.Load(Path.Combine(RepoRoot(), "Portal")));

    [Fact]
    public void The_allow_list_stays_short()
    {
        Assert.True(AllowedFeatureEdges.Count <= 20, $"{AllowedFeatureEdges.Count} feature edges are allowed; keep it to 20 or fewer.");
    }

    [Fact]
    public void Infrastructure_and_shared_controls_never_depend_on_a_feature()
    {
        var offending = Portal.Value.Files
            .Where(f => IsInfrastructure(f.Namespace)
                || f.Namespace.StartsWith($"{SourceTree.RootNamespace}.Components.Controls", StringComparison.Ordinal))
            .SelectMany(Portal.Value.ReferencesOf)
            .Where(r => FeatureOf(r.Namespace) is not null)
            .Select(Describe)
            .ToList();

        Assert.True(offending.Count == 0, "Shared code depends on features:\n" + string.Join("\n", offending));
    }

    [Fact]
    public void Features_depend_only_on_the_features_they_are_allowed_to()
    {
        var edges = FeatureEdges();
        var unexpected = edges.Where(e => !AllowedFeatureEdges.ContainsKey(e.Key))
            .SelectMany(e => e.Value.Select(r => $"{e.Key.From} -> {e.Key.To}: {Describe(r)}"))
            .ToList();
        var stale = AllowedFeatureEdges.Keys.Where(k => !edges.ContainsKey(k)).Select(k => $"{k.From} -> {k.To}").ToList();

        Assert.True(unexpected.Count == 0, "Feature dependencies not in the allow-list:\n" + string.Join("\n", unexpected));
        Assert.True(stale.Count == 0, "Allowed feature dependencies that no longer exist (remove them from the list): " + string.Join(", ", stale));
    }

    [Fact]
    public void No_two_features_depend_on_each_other_even_through_others()
    {
        var graph = FeatureEdges().Keys.GroupBy(k => k.From).ToDictionary(g => g.Key, g => g.Select(k => k.To).ToList());
        var cycles = new List<string>();
        foreach (var start in graph.Keys)
        {
            var path = new Stack<string>();
            Visit(start);

            void Visit(string feature)
            {
                path.Push(feature);
                foreach (var next in graph.GetValueOrDefault(feature) ?? [])
                {
                    if (next == start) cycles.Add(string.Join(" -> ", path.Reverse().Append(start)));
                    else if (!path.Contains(next)) Visit(next);
                }
                path.Pop();
            }
        }

        Assert.True(cycles.Count == 0, "Features in a cycle:\n" + string.Join("\n", cycles.Distinct()));
    }

    [Fact]
    public void The_job_engine_knows_nothing_of_the_portal()
    {
        var engine = Path.Combine(RepoRoot(), "Cogrion.Jobs");
        var offending = Directory.EnumerateFiles(engine, "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(p => File.ReadLines(p)
                .Any(line => line.StartsWith("using Cogrion.Portal", StringComparison.Ordinal)
                || line.Contains("Cogrion.Portal.", StringComparison.Ordinal)))
            .Select(p => Path.GetRelativePath(RepoRoot(), p))
            .ToList();

        Assert.True(offending.Count == 0, "Cogrion.Jobs refers to the Portal in: " + string.Join(", ", offending));
    }

    [Fact]
    public void The_reader_sees_a_dependency_through_imports_and_one_written_out_in_full()
    {
        // The test above is only as good as this reader: a page naming a feature's component through
        // _Imports.razor, and a qualified name, must both count.
        var tree = Portal.Value;
        var references = tree.Files.SelectMany(tree.ReferencesOf).ToList();
        Assert.Contains(references, r => r.File == "Features/Dashboard/DashboardPage.razor" && r.Namespace == "Cogrion.Portal.Features.Workspaces");
        Assert.Contains(references, r => r.File.StartsWith("Hosting/", StringComparison.Ordinal)
            && r.Namespace.StartsWith("Cogrion.Portal.Features.", StringComparison.Ordinal));
    }

    private static Dictionary<(string From, string To), List<SourceTree.Reference>> FeatureEdges()
    {
        var edges = new Dictionary<(string, string), List<SourceTree.Reference>>();
        foreach (var file in Portal.Value.Files)
        {
            if (FeatureOf(file.Namespace) is not { } from) continue;
            foreach (var reference in Portal.Value.ReferencesOf(file))
            {
                if (FeatureOf(reference.Namespace) is not { } to || to == from) continue;
                (edges.TryGetValue((from, to), out var list) ? list : edges[(from, to)] = []).Add(reference);
            }
        }
        return edges;
    }

    private static string? FeatureOf(string ns)
    {
        const string prefix = SourceTree.RootNamespace + ".Features.";
        return ns.StartsWith(prefix, StringComparison.Ordinal) ? ns[prefix.Length..].Split('.')[0] : null;
    }

    private static bool IsInfrastructure(string ns) =>
        ns == SourceTree.RootNamespace + ".Infrastructure" || ns.StartsWith(SourceTree.RootNamespace + ".Infrastructure.", StringComparison.Ordinal);

    private static string Describe(SourceTree.Reference reference) =>
        $"  {reference.File} uses {reference.Namespace} ({string.Join(", ", reference.Names.Take(5))})";

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Portal.sln"))) return dir.FullName;
        throw new InvalidOperationException("Portal.sln not found above " + AppContext.BaseDirectory);
    }
}
