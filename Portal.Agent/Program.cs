using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Cogrion.Agent;
using Cogrion.Agent.Commands;
using Cogrion.Agent.Identity;
using Cogrion.Agent.Kubernetes;
using Cogrion.Agent.Protocol;
using Cogrion.Agent.Runtime;

if (args.Contains("--version"))
{
    Console.WriteLine($"cogrion-agent {AgentVersion.Current}");
    return 0;
}

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddOptions<AgentOptions>().Bind(builder.Configuration.GetSection(AgentOptions.Section)).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>();
// Read once, before the container is built: it decides which implementations are registered.
var cluster = Enum.TryParse<ClusterMode>(builder.Configuration[$"{AgentOptions.Section}:{nameof(AgentOptions.Cluster)}"], ignoreCase: true, out var mode)
    ? mode
    : ClusterMode.InCluster;
builder.Services.AddClusterAgent(cluster);

using var host = builder.Build();
try
{
    host.Services.GetRequiredService<IStartupValidator>().Validate();
    await host.RunAsync();
    return Environment.ExitCode;
}
catch (OptionsValidationException ex)
{
    Console.Error.WriteLine("The agent cannot start: its configuration is invalid.");
    foreach (var failure in ex.Failures) Console.Error.WriteLine($"  - {failure}");
    return AgentExitCodes.InvalidConfiguration;
}

namespace Cogrion.Agent
{
    public static class AgentServices
    {
        /// <summary>The agent's parts. Each boundary has one real implementation and one simulator, chosen by <paramref name="cluster"/>.</summary>
        public static IServiceCollection AddClusterAgent(this IServiceCollection services, ClusterMode cluster)
        {
            services.TryAddSingleton(TimeProvider.System);
            if (cluster == ClusterMode.Simulated)
            {
                services.TryAddSingleton<IKubernetesClient, SimulatedCluster>();
                services.TryAddSingleton<IAgentStateStore, FileAgentStateStore>();
            }
            else
            {
                services.TryAddSingleton<IKubernetesClient>(_ => new KubernetesClient(KubernetesConnection.InCluster()));
                services.TryAddSingleton<IAgentStateStore, KubernetesSecretStateStore>();
            }
            services.TryAddSingleton<AgentSession>();
            services.TryAddSingleton<IPortalClient, PortalClient>();
            services.TryAddSingleton<InventoryReader>();
            services.TryAddSingleton<NamespaceRules>();
            services.TryAddSingleton<CommandVerifier>();
            services.TryAddSingleton<CommandProcessor>();
            services.TryAddSingleton<Backoff>();
            services.TryAddSingleton<AgentLifecycle>();
            services.AddSingleton<ICommandExecutor, EnsureNamespaceExecutor>();
            services.AddSingleton<ICommandExecutor, ApplyManifestExecutor>();
            services.AddSingleton<ICommandExecutor, DeleteManifestExecutor>();
            services.AddSingleton<ICommandExecutor, ReportInventoryExecutor>();
            services.AddSingleton<ICommandExecutor, RotateKeyExecutor>();
            services.AddSingleton<ICommandExecutor, UninstallExecutor>();
            services.AddHostedService<AgentLoop>();
            return services;
        }
    }
}
