using Cogrion.Agent;
using Cogrion.Agent.Commands;
using Cogrion.Agent.Identity;
using Cogrion.Agent.Kubernetes;
using Cogrion.Agent.Protocol;
using Cogrion.Agent.Runtime;
using Cogrion.Agent.Secrets;
using Cogrion.Agent.Support;
using Cogrion.Kubernetes;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

if (args.Contains("--version"))
{
    Console.WriteLine($"cogrion-agent {AgentVersion.Current}");
    return 0;
}

if (args.Length > 0 && args[0] == SealCommand.Name)
    return await SealCommand.RunAsync(args[1..], Console.In, Console.Out, Console.Error);

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddOptions<AgentOptions>().Bind(builder.Configuration.GetSection(AgentOptions.Section)).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>();
builder.Services.AddClusterAgent();

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
catch (KubernetesException ex) when (ex.StatusCode == 0)
{
    Console.Error.WriteLine($"The agent cannot start: {ex.Message}");
    return AgentExitCodes.InvalidConfiguration;
}

namespace Cogrion.Agent
{
    public static class AgentServices
    {
        /// <summary>The agent's parts. Each boundary is an interface, so a test substitutes exactly one piece.</summary>
        public static IServiceCollection AddClusterAgent(this IServiceCollection services)
        {
            services.TryAddSingleton(TimeProvider.System);
            // The pod's in-cluster configuration, read once: the same for a real cluster and a sandbox's simulated one.
            services.TryAddSingleton(_ => InClusterConfiguration.Load());
            services.TryAddSingleton<IKubernetesClient>(provider
                => new KubernetesClient(provider.GetRequiredService<k8s.KubernetesClientConfiguration>()));
            services.TryAddSingleton(provider => AgentPod.From(
                provider.GetRequiredService<IOptions<AgentOptions>>().Value, provider.GetRequiredService<k8s.KubernetesClientConfiguration>()));
            services.TryAddSingleton<IAgentStateStore, KubernetesSecretStateStore>();
            services.TryAddSingleton<AgentSession>();
            services.TryAddSingleton<PortalRetryAfter>();
            services.TryAddSingleton<IPortalClient, PortalClient>();
            services.TryAddSingleton<AppReportBudget>();
            services.TryAddSingleton<InventoryReader>();
            services.TryAddSingleton<AppWatcher>();
            services.TryAddSingleton<NamespaceRules>();
            services.TryAddSingleton<CommandVerifier>();
            services.TryAddSingleton<CommandProcessor>();
            services.TryAddSingleton<Backoff>();
            services.TryAddSingleton<AgentLifecycle>();
            services.TryAddSingleton<AgentReadiness>();
            services.TryAddSingleton<EncryptionKeyRing>();
            services.TryAddSingleton<SupportLedger>();
            services.TryAddSingleton<SupportReadClient>();
            services.AddSingleton<ICommandExecutor, EnsureNamespaceExecutor>();
            services.AddSingleton<ICommandExecutor, DeleteNamespaceExecutor>();
            services.AddSingleton<ICommandExecutor, ApplyManifestExecutor>();
            services.AddSingleton<ICommandExecutor, DeleteManifestExecutor>();
            services.AddSingleton<ICommandExecutor, ReportInventoryExecutor>();
            services.AddSingleton<ICommandExecutor, RotateKeyExecutor>();
            services.AddSingleton<ICommandExecutor, UninstallExecutor>();
            services.AddSingleton<ICommandExecutor, UpgradeExecutor>();
            services.AddSingleton<ICommandExecutor, ApplySecretExecutor>();
            services.AddSingleton<ICommandExecutor, DeleteSecretExecutor>();
            services.AddSingleton<ICommandExecutor, ReconcileReleaseExecutor>();
            services.AddSingleton<ICommandExecutor, SupportApproversExecutor>();
            services.AddSingleton<ICommandExecutor, SupportGrantExecutor>();
            services.AddSingleton<ICommandExecutor, SupportRevokeExecutor>();
            services.AddSingleton<ICommandExecutor, SupportActionExecutor>();
            services.AddHostedService<ReadinessEndpoint>();
            services.AddHostedService<AgentLoop>();
            return services;
        }
    }
}
