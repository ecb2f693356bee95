using Cogrion.Portal.Hosting;
using Cogrion.Portal.Infrastructure.Database;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// The Portal built exactly as Program.cs builds it, in this process, on a real Kestrel port: what
/// an out-of-process client (the agent binary) needs, while the test still reaches the Portal's
/// services (enqueue a command, revoke an agent) without a signed-in browser. Stop it and start
/// another on the same port to play "the Portal went away and came back".
/// </summary>
public sealed class PortalServer : IAsyncDisposable
{
    private readonly WebApplication app;

    public string BaseUrl { get; }
    public IServiceProvider Services => app.Services;

    private PortalServer(WebApplication app, string baseUrl, string logFile)
    {
        this.app = app;
        BaseUrl = baseUrl;
        LogFile = logFile;
    }

    /// <summary>The Portal's own log (its Cogrion categories from Information up), for tests that search it (the secrets canary).</summary>
    public string LogFile { get; }

    public string Log
    {
        get
        {
            if (!File.Exists(LogFile)) return "";
            using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return new StreamReader(stream).ReadToEnd();
        }
    }

    public T Get<T>() where T : notnull => app.Services.GetRequiredService<T>();

    public static async Task<PortalServer> StartAsync(string connectionString, string? baseUrl = null, IDictionary<string, string?>? overrides = null)
    {
        baseUrl ??= PortalProcess.NextBaseUrl();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = "Portal",
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        var settings = TestSettings.PortalConfiguration(connectionString, "http://127.0.0.1:9");
        settings["Logging:LogLevel:Default"] = "Warning";
        settings["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning";
        if (overrides is not null)
            foreach (var (key, value) in overrides) settings[key] = value;
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls(baseUrl);
        var logFile = Path.Combine(Path.GetTempPath(), $"cogrion-portal-{Guid.NewGuid():N}.log");
        builder.Logging.AddProvider(new FileLoggerProvider(logFile));
        builder.Logging.AddFilter<FileLoggerProvider>("Cogrion", LogLevel.Information);
        builder.AddPortalServices();
        var app = builder.Build();
        app.UsePortalPipeline();
        await app.StartAsync();
        await app.Services.GetRequiredService<MigrationStatus>().WaitUntilAppliedAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        await app.Services.GetRequiredService<PostgresNotifications>().Listening.WaitAsync(TimeSpan.FromSeconds(30));
        return new PortalServer(app, baseUrl, logFile);
    }

    public async ValueTask DisposeAsync()
    {
        // Long polls are cut off rather than waited for: a stopping Portal must not take 50 s.
        using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await app.StopAsync(quick.Token);
        }
        catch (OperationCanceledException)
        {
        }
        await app.DisposeAsync();
    }
}
