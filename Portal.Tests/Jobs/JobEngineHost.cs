using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Jobs;
using Cogrion.Portal.Infrastructure.Audit;

namespace Cogrion.Portal.Tests.Jobs;

/// <summary>
/// The job engine alone in a generic host, as one Portal replica runs it, against a real database.
/// Several of them on one database stand for several replicas. Settings are short so the rules
/// show within a test's time (leases of seconds, not minutes).
/// </summary>
public sealed class JobEngineHost : IAsyncDisposable
{
    private readonly IHost host;
    private bool stopped;

    private JobEngineHost(IHost host) => this.host = host;

    public IServiceProvider Services => host.Services;
    public JobQueue Queue => Services.GetRequiredService<JobQueue>();
    public NpgsqlDataSource DataSource => Services.GetRequiredService<NpgsqlDataSource>();
    public WorkerIdentity Worker => Services.GetRequiredService<WorkerIdentity>();

    public static async Task<JobEngineHost> StartAsync(string connectionString, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production", DisableDefaults = true });
        var configuration = new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = connectionString,
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

        DapperConventions.Register();
        builder.Services.Configure<DatabaseOptions>(builder.Configuration.GetSection(DatabaseOptions.Section));
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        builder.Services.AddSingleton(_ =>
        {
            var status = new MigrationStatus();
            status.MarkApplied(2);
            return status;
        });
        builder.Services.AddSingleton(new SecretRedactor(["never-log-this-secret"]));
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
