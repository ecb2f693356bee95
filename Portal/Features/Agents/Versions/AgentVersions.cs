using Cogrion.Agent.Protocol;
using Cogrion.Portal.Infrastructure.Database;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Agents.Versions;

/// <summary>How far an agent's version is from the Portal's current one.</summary>
public sealed record AgentVersionStatus(string? Version, string CurrentVersion, bool Behind, int MinorVersionsBehind, bool MajorBehind,
    int? DaysBehind)
{
    /// <summary>The fleet warns past two minor versions or thirty days (or any major version).</summary>
    public bool Warn => MajorBehind || MinorVersionsBehind > 2 || DaysBehind > 30;

    public string Describe() => Version is null ? "version not reported yet"
        : !Behind ? "current"
        : $"{(MajorBehind ? "a major version" : $"{MinorVersionsBehind} minor version(s)")} behind " +
            $"{CurrentVersion}{(DaysBehind is { } days ? $", for {days} day(s)" : "")}";

    public static AgentVersionStatus Of(string? version, string current, IReadOnlyList<(string Version, DateTimeOffset CurrentSince)> releases,
        DateTimeOffset now)
    {
        if (version is null || !TryParse(version, out var running) || !TryParse(current, out var target))
            return new AgentVersionStatus(version, current, false, 0, false, null);
        var behind = running < target;
        var major = running.Major < target.Major;
        var minors = !behind || major ? 0 : target.Minor - running.Minor;
        // Behind since the first release newer than the one it runs became current.
        var since = releases.Where(r => TryParse(r.Version, out var v) && v > running).Select(r => (DateTimeOffset?)r.CurrentSince).Min();
        int? days = behind && since is { } start ? Math.Max(0, (int)(now - start).TotalDays) : null;
        return new AgentVersionStatus(version, current, behind, minors, major, days);
    }

    private static bool TryParse(string text, out System.Version version) =>
        System.Version.TryParse(text.TrimStart('v').Split('-', '+')[0], out version!);
}

/// <summary>The releases the Portal knows, recorded as each becomes current (one row per version).</summary>
public sealed class AgentVersions(NpgsqlDataSource dataSource, AgentRelease release, TimeProvider time)
{
    public async Task RecordCurrentAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into agent_releases (version, image, current_since) values (@Version, @Image, @now)
            on conflict (version) do nothing
            """, new { release.Current.Version, Image = release.Current.ToString(), now = time.GetUtcNow() }, cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<(string Version, DateTimeOffset CurrentSince)>> ReleasesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<(string, DateTimeOffset)>(new CommandDefinition(
            "select version, current_since from agent_releases", cancellationToken: cancellationToken))).ToList();
    }

    public async Task<AgentVersionStatus> StatusAsync(string? agentVersion, CancellationToken cancellationToken) =>
        AgentVersionStatus.Of(agentVersion, release.Current.Version, await ReleasesAsync(cancellationToken), time.GetUtcNow());
}

/// <summary>Records the Portal's current agent release once the schema is there.</summary>
public sealed class AgentReleaseRecorder(AgentVersions versions, MigrationStatus migrations, ILogger<AgentReleaseRecorder> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await migrations.WaitUntilAppliedAsync(stoppingToken);
            await versions.RecordCurrentAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (NpgsqlException ex)
        {
            logger.LogWarning("Could not record the current agent release: {Problem}", ex.Message);
        }
    }
}
