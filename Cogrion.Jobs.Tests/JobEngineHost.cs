using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Cogrion.Jobs.Tests;

/// <summary>
/// The job engine alone in a generic host, as one replica of any host runs it, against a real
/// database: it applies its own schema and listens on a connection of its own. Several of them on one
/// database stand for several replicas. Settings are short so the rules show within a test's time
/// (leases of seconds, not minutes).
/// </summary>
public sealed class JobEngineHost : IAsyncDisposable
{
    private readonly IHost host;
    private bool stopped;

    private JobEngineHost(IHost host) => this.host = host;

    public IServiceProvider Services => host.Services;
    public JobQueue Queue => Services.GetRequiredService<JobQueue>();
    public NpgsqlDataSource DataSource => Services.GetRequiredService<NpgsqlDataSource>();
    internal WorkerIdentity Worker => Services.GetRequiredService<WorkerIdentity>();

    /// <summary>How this replica's worker names itself in jobs and in the workers table.</summary>
    public string WorkerId => Worker.Id;
    internal JobWorkerPool Pool => Services.GetRequiredService<JobWorkerPool>();

    /// <summary>Completes once the engine's own LISTEN is in place.</summary>
    internal Task Listening => Services.GetRequiredService<JobNotificationListener>().Listening;

    public static async Task<JobEngineHost> StartAsync(string connectionString, IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production", DisableDefaults = true });
        var configuration = new Dictionary<string, string?>
        {
            ["Jobs:WorkersPerReplica"] = "4",
            ["Jobs:PollInterval"] = "00:00:05",
            ["Jobs:LeaseDuration"] = "00:00:03",
            ["Jobs:HeartbeatInterval"] = "00:00:00.500",
            ["Jobs:ReaperInterval"] = "00:00:00.500",
            ["Jobs:CancelGracePeriod"] = "00:00:02",
            ["Jobs:ShutdownGracePeriod"] = "00:00:02",
        };
        if (settings is not null)
            foreach (var (key, value) in settings) configuration[key] = value;
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);

        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        builder.Services.AddSingleton<IJobSecretRedactor>(new TestRedactor(["never-log-this-secret"]));
        builder.Services.AddJobEngine(builder.Configuration);
        builder.Services.AddTestJobs();
        configure?.Invoke(builder.Services);

        var host = builder.Build();
        await host.StartAsync();
        return new JobEngineHost(host);
    }

    /// <summary>A graceful stop, as on SIGTERM.</summary>
    public async Task StopAsync()
    {
        if (stopped) return;
        stopped = true;
        await host.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        host.Dispose();
    }
}

/// <summary>A host's redactor, as small as the rule it must keep: secret-sounding keys, and the secrets it was told.</summary>
public sealed class TestRedactor(IReadOnlyList<string> secrets) : IJobSecretRedactor
{
    public static readonly TestRedactor Instance = new([]);

    public bool IsSecretKey(string key) =>
        new[] { "password", "secret", "token", "apikey", "api_key", "credential" }.Any(word
            => key.Contains(word, StringComparison.OrdinalIgnoreCase));

    public string Redact(string text)
        => secrets.Aggregate(text, (current, secret) => current.Replace(secret, "[redacted]", StringComparison.Ordinal));
}
