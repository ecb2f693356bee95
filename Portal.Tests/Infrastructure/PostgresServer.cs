using System.Diagnostics;
using Cogrion.Portal.Infrastructure.Database;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// One real PostgreSQL cluster for the whole test run (initdb + pg_ctl through tools/postgres.sh,
/// on a free loopback port, durability off), stopped when the run ends. Each test gets a database
/// of its own: empty, or cloned from a template that already has every migration applied.
/// </summary>
public sealed class PostgresServer
{
    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartAsync);
    private readonly SemaphoreSlim templateGate = new(1, 1);
    private bool templateReady;

    public static Task<PostgresServer> GetAsync() => Shared.Value;

    public int Port { get; }
    public string DataDirectory { get; }

    private PostgresServer(int port, string dataDirectory)
    {
        Port = port;
        DataDirectory = dataDirectory;
    }

    private const string DirectoryPrefix = "cogrion-tests-pg-";

    private static async Task<PostgresServer> StartAsync()
    {
        DapperConventions.Register();
        var script = Path.Combine(RepoPaths.Tools, "postgres.sh");
        await RemoveClustersOfDeadRunsAsync(script);
        var port = FreePort.Next();
        var dataDirectory = Path.Combine(Path.GetTempPath(), $"{DirectoryPrefix}{Environment.ProcessId}-{port}");
        var result = await ProcessRunner.RunAsync("bash", [script, "start", dataDirectory, port.ToString(), "--fast"],
            timeout: TimeSpan.FromMinutes(2));
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"Could not start the test PostgreSQL cluster:\n{result.StandardError}{result.StandardOutput}");
        // Synchronous on purpose: nothing asynchronous is reliable while the test host exits.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            ChildProcess.KillAllRunning();
            Process.Start(new ProcessStartInfo("bash") { ArgumentList = { script, "destroy", dataDirectory } })?.WaitForExit(15_000);
        };
        return new PostgresServer(port, dataDirectory);
    }

    /// <summary>
    /// A test host that was killed (a cancelled run, a crash) never ran its exit cleanup, and its cluster
    /// would live on. The directory name carries the owning process id: a cluster whose owner is gone is
    /// stopped and deleted before this run starts its own.
    /// </summary>
    private static async Task RemoveClustersOfDeadRunsAsync(string script)
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), DirectoryPrefix + "*"))
        {
            var owner = Path.GetFileName(directory)[DirectoryPrefix.Length..].Split('-')[0];
            if (!int.TryParse(owner, out var pid) || IsAlive(pid)) continue;
            try
            {
                await ProcessRunner.RunAsync("bash", [script, "destroy", directory], timeout: TimeSpan.FromMinutes(2));
            }
            catch (TimeoutException)
            {
                // A loaded machine can be slow to stop a leftover cluster; it uses its own port and
                // directory, so this run goes on and a later one removes it.
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try { return !Process.GetProcessById(pid).HasExited; }
        catch (ArgumentException) { return false; }
    }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Maximum Pool Size=50;Timeout=15";

    public string AdminConnectionString => ConnectionString("postgres");

    /// <summary>A new, empty database.</summary>
    public async Task<string> CreateEmptyDatabaseAsync(string prefix = "t")
    {
        var name = NewName(prefix);
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.ExecuteAsync($"create database {name}");
        return name;
    }

    /// <summary>A new database with every migration applied (cloned from a template: much faster than migrating).</summary>
    public async Task<string> CreateMigratedDatabaseAsync(string prefix = "t")
    {
        await EnsureTemplateAsync();
        var name = NewName(prefix);
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.ExecuteAsync($"create database {name} template cogrion_template");
        return name;
    }

    public async Task DropDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.ExecuteAsync($"drop database if exists {name} with (force)");
    }

    private async Task EnsureTemplateAsync()
    {
        await templateGate.WaitAsync();
        try
        {
            if (templateReady) return;
            await using (var connection = new NpgsqlConnection(AdminConnectionString))
                await connection.ExecuteAsync("create database cogrion_template");
            await using (var dataSource = NpgsqlDataSource.Create(ConnectionString("cogrion_template") + ";Pooling=false"))
                await new MigrationRunner(dataSource, NullLogger<MigrationRunner>.Instance).ApplyAsync(CancellationToken.None);
            templateReady = true;
        }
        finally
        {
            templateGate.Release();
        }
    }

    private static string NewName(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(40, prefix.Length + 33)];
}
