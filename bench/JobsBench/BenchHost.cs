using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Jobs;
using Cogrion.Portal.Infrastructure.Audit;

namespace Cogrion.Bench.Jobs;

/// <summary>One Portal replica's job engine (default settings except the worker count) in a generic host.</summary>
public sealed class BenchHost(IHost host) : IAsyncDisposable
{
    public static async Task<BenchHost> StartAsync(string connectionString, int workers)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = connectionString,
            ["Jobs:WorkersPerReplica"] = workers.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<DatabaseOptions>(builder.Configuration.GetSection(DatabaseOptions.Section));
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        builder.Services.AddSingleton(_ =>
        {
            var status = new MigrationStatus();
            status.MarkApplied(0);
            return status;
        });
        builder.Services.AddSingleton(new SecretRedactor([]));
        builder.Services.AddJobEngine(builder.Configuration);
        builder.Services.AddJobHandler<NoopHandler, NoopJob>();
        var built = builder.Build();
        await built.StartAsync();
        return new BenchHost(built);
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }
}
