using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Cogrion.Jobs.Schema;
using Dapper;
using Npgsql;

namespace Cogrion.Jobs.Tests.Infrastructure;

/// <summary>
/// One real PostgreSQL cluster for this test run (tools/postgres.sh, the repository's one way to
/// start one: a free loopback port, durability off), stopped when the run ends. Each test gets a
/// database of its own, cloned from a template that has the engine's schema.
/// </summary>
public sealed class TestPostgres
{
    private static readonly Lazy<Task<TestPostgres>> Shared = new(StartAsync);
    private readonly SemaphoreSlim templateGate = new(1, 1);
    private bool templateReady;

    private TestPostgres(int port, string dataDirectory)
    {
        Port = port;
        DataDirectory = dataDirectory;
    }

    public int Port { get; }
    public string DataDirectory { get; }

    public static Task<TestPostgres> GetAsync() => Shared.Value;

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Timeout=30;Command Timeout=60";

    /// <summary>A database with the engine's schema applied.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "jobs")
    {
        await EnsureTemplateAsync();
        var name = NewName(prefix);
        await AdminAsync($"create database {name} template jobs_template");
        return name;
    }

    /// <summary>A database with nothing in it.</summary>
    public async Task<string> CreateEmptyDatabaseAsync(string prefix = "empty")
    {
        var name = NewName(prefix);
        await AdminAsync($"create database {name}");
        return name;
    }

    private async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.ExecuteAsync(sql);
    }

    private async Task EnsureTemplateAsync()
    {
        await templateGate.WaitAsync();
        try
        {
            if (templateReady) return;
            await AdminAsync("create database jobs_template");
            await using (var dataSource = NpgsqlDataSource.Create(ConnectionString("jobs_template") + ";Pooling=false"))
                await JobSchema.ApplyAsync(dataSource, null, CancellationToken.None);
            templateReady = true;
        }
        finally
        {
            templateGate.Release();
        }
    }

    private static string NewName(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(40, prefix.Length + 33)];

    private static async Task<TestPostgres> StartAsync()
    {
        var script = Path.Combine(RepoRoot(), "tools", "postgres.sh");
        // A test host that was killed never ran its exit cleanup: its cluster (named after its process id) goes first.
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), DirectoryPrefix + "*"))
        {
            if (int.TryParse(Path.GetFileName(directory)[DirectoryPrefix.Length..].Split('-')[0], out var owner) && !IsAlive(owner))
            {
                try
                {
                    await RunAsync("bash", script, "destroy", directory);
                }
                catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
                {
                    // A leftover that will not stop must not fail this run; the next one retries.
                }
            }
        }
        var port = FreePort();
        var data = Path.Combine(Path.GetTempPath(), $"{DirectoryPrefix}{Environment.ProcessId}-{port}");
        await RunAsync("bash", script, "start", data, port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--fast");
        var server = new TestPostgres(port, data);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            using var stop = Process.Start(new ProcessStartInfo("bash", [script, "destroy", data])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true
            });
            stop?.WaitForExit(TimeSpan.FromSeconds(30));
        };
        return server;
    }

    private const string DirectoryPrefix = "cogrion-jobs-tests-pg-";

    private static bool IsAlive(int pid)
    {
        try { return !Process.GetProcessById(pid).HasExited; }
        catch (ArgumentException) { return false; }
    }

    private static async Task RunAsync(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })
            ?? throw new InvalidOperationException($"Could not start {file}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {await output}{await error}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Portal.sln"))) return dir.FullName;
        throw new InvalidOperationException("Portal.sln not found above " + AppContext.BaseDirectory);
    }
}
