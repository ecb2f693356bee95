using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Sandbox;

namespace Cogrion.Portal.Tests.Deploy;

/// <summary>
/// deploy/kubernetes as an operator applies it: rendered offline by Debian's kubectl (kustomize is built
/// in; no cluster needed), then read object by object for what running N replicas safely needs.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly Lazy<Task<IReadOnlyList<JsonObject>>> Rendered = new(RenderAsync);

    private static async Task<IReadOnlyList<JsonObject>> RenderAsync()
    {
        var result = await ProcessRunner.RunAsync("kubectl", ["kustomize", Path.Combine(RepoPaths.Root, "deploy", "kubernetes")],
            timeout: TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"kubectl kustomize failed:\n{result.StandardError}");
        return InstallTemplate.SplitDocuments(result.StandardOutput).Select(YamlDocuments.Parse).ToList();
    }

    private static async Task<JsonObject> OneAsync(string kind) => Assert.Single(await Rendered.Value, o => o["kind"]!.GetValue<string>() == kind);

    private static JsonObject PodSpec(JsonObject deployment) => deployment["spec"]!["template"]!["spec"]!.AsObject();

    private static JsonObject Portal(JsonObject deployment)
        => Assert.Single(PodSpec(deployment)["containers"]!.AsArray(), c => c!["name"]!.GetValue<string>() == "portal")!.AsObject();

    [Fact]
    public async Task The_deployment_runs_at_least_two_replicas_and_replaces_pods_only_once_the_new_one_is_ready()
    {
        var deployment = await OneAsync("Deployment");
        Assert.True(deployment["spec"]!["replicas"]!.GetValue<long>() >= 2);
        Assert.Equal(0L, deployment["spec"]!["strategy"]!["rollingUpdate"]!["maxUnavailable"]!.GetValue<long>());
        var budget = await OneAsync("PodDisruptionBudget");
        Assert.Equal(1L, budget["spec"]!["maxUnavailable"]!.GetValue<long>());
        Assert.Equal(deployment["spec"]!["selector"]!["matchLabels"]!.ToJsonString(), budget["spec"]!["selector"]!["matchLabels"]!.ToJsonString());
        // Replicas spread over nodes.
        var antiAffinity = PodSpec(deployment)["affinity"]!["podAntiAffinity"]!["preferredDuringSchedulingIgnoredDuringExecution"]![0]!;
        Assert.Equal("kubernetes.io/hostname", antiAffinity["podAffinityTerm"]!["topologyKey"]!.GetValue<string>());
    }

    [Fact]
    public async Task Liveness_asks_healthz_and_readiness_asks_readyz()
    {
        var portal = Portal(await OneAsync("Deployment"));
        Assert.Equal("/healthz", portal["livenessProbe"]!["httpGet"]!["path"]!.GetValue<string>());
        Assert.Equal("/healthz", portal["startupProbe"]!["httpGet"]!["path"]!.GetValue<string>());
        Assert.Equal("/readyz", portal["readinessProbe"]!["httpGet"]!["path"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_portal_runs_as_non_root_on_a_read_only_root_filesystem_without_capabilities_or_api_access()
    {
        var deployment = await OneAsync("Deployment");
        var pod = PodSpec(deployment);
        Assert.True(pod["securityContext"]!["runAsNonRoot"]!.GetValue<bool>());
        Assert.NotEqual(0L, pod["securityContext"]!["runAsUser"]!.GetValue<long>());
        Assert.False(pod["automountServiceAccountToken"]!.GetValue<bool>());
        var container = Portal(deployment)["securityContext"]!;
        Assert.True(container["readOnlyRootFilesystem"]!.GetValue<bool>());
        Assert.False(container["allowPrivilegeEscalation"]!.GetValue<bool>());
        Assert.Equal("[\"ALL\"]", container["capabilities"]!["drop"]!.ToJsonString());
        // The one writable place is a scratch volume, and every path the Portal writes is under it.
        Assert.Equal("/tmp", Assert.Single(Portal(deployment)["volumeMounts"]!.AsArray())!["mountPath"]!.GetValue<string>());
        var settings = (await OneAsync("ConfigMap"))["data"]!.AsObject();
        Assert.StartsWith("/tmp/", settings["OpenTofu__WorkRoot"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.StartsWith("/tmp/", settings["Provisioning__SandboxStateRoot"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Secrets_come_from_a_secret_and_the_key_encryption_key_is_one_of_them()
    {
        var portal = Portal(await OneAsync("Deployment"));
        var fromSecrets = portal["env"]!.AsArray().Where(e => e!["valueFrom"]?["secretKeyRef"] is not null)
            .Select(e => e!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("DataProtection__KeyEncryptionKey", fromSecrets);
        Assert.Contains("Keycloak__ClientSecret", fromSecrets);
        Assert.Contains("Database__ConnectionString", fromSecrets);
        // Nothing secret sits in the rendered objects themselves.
        Assert.DoesNotContain(await Rendered.Value, o => o["kind"]!.GetValue<string>() == "Secret");
        var settings = (await OneAsync("ConfigMap"))["data"]!.AsObject();
        string[] secretNames = ["Secret", "KeyEncryption", "SigningKey", "Password", "ConnectionString"];
        Assert.DoesNotContain(settings, s => secretNames.Any(name => s.Key.Contains(name, StringComparison.OrdinalIgnoreCase)));
        Assert.Equal("Production", settings["ASPNETCORE_ENVIRONMENT"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_ingress_keeps_a_browser_on_one_replica_and_lets_long_polls_and_circuits_live()
    {
        var annotations = (await OneAsync("Ingress"))["metadata"]!["annotations"]!.AsObject();
        Assert.Equal("cookie", annotations["nginx.ingress.kubernetes.io/affinity"]!.GetValue<string>());
        Assert.Equal("persistent", annotations["nginx.ingress.kubernetes.io/affinity-mode"]!.GetValue<string>());
        Assert.True(int.Parse(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]!.GetValue<string>()) > 60,
            "a 50 s long poll must outlive the proxy's read timeout");
        // The Portal trusts forwarded headers only from the proxies it is told of.
        Assert.NotNull((await OneAsync("ConfigMap"))["data"]!["ReverseProxy__KnownNetworks__0"]);
    }

    [Fact]
    public async Task Every_image_is_pinned_to_a_version_never_latest()
    {
        var images = (await Rendered.Value).Where(o => o["kind"]!.GetValue<string>() == "Deployment")
            .SelectMany(d => PodSpec(d)["containers"]!.AsArray()).Select(c => c!["image"]!.GetValue<string>()).ToList();
        Assert.NotEmpty(images);
        Assert.All(images, image =>
        {
            var tag = image.Contains('@', StringComparison.Ordinal) ? "digest" : image[(image.LastIndexOf(':') + 1)..];
            Assert.True(image.LastIndexOf(':') > image.LastIndexOf('/'), $"{image} has no tag");
            Assert.NotEqual("latest", tag);
            Assert.Matches(@"^\d+\.\d+\.\d+", tag == "digest" ? "0.0.0" : tag);
        });
    }

    [Fact]
    public async Task The_compose_file_runs_two_portal_replicas_behind_nginx_with_pinned_images()
    {
        var compose = YamlDocuments.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "compose", "compose.yaml")));
        var services = compose["services"]!.AsObject();
        Assert.Equal(2, services.Count(s => s.Key.StartsWith("portal-", StringComparison.Ordinal)));
        Assert.Contains("nginx", services.Select(s => s.Key));
        Assert.Contains("keycloak", services.Select(s => s.Key));
        Assert.Contains("postgres", services.Select(s => s.Key));
        Assert.All(services, s =>
        {
            var image = s.Value!["image"]!.GetValue<string>();
            Assert.DoesNotContain(":latest", image, StringComparison.Ordinal);
            Assert.Matches(@":\d+(\.\d+)+", image);
        });
    }
}
