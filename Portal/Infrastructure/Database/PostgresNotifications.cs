using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Infrastructure.Database;

/// <summary>
/// A feature's interest in one PostgreSQL notification channel, heard through the process's one
/// <see cref="PostgresNotifications"/> connection. Register with <c>services.AddNotificationSubscriber&lt;T&gt;()</c>.
/// Both methods run on the listener's thread and must return at once (release a signal, set a
/// flag, publish to an in-process hub): a slow subscriber delays every other feature's wake-ups.
/// </summary>
public interface INotificationSubscriber
{
    /// <summary>The channel this subscriber hears (a lower-case SQL identifier, as in <c>pg_notify('channel', ...)</c>).</summary>
    string Channel { get; }

    /// <summary>A NOTIFY on <see cref="Channel"/> committed somewhere; the payload is whatever the sender put there.</summary>
    void OnNotification(string payload);

    /// <summary>
    /// Notifications on the channel may have been missed: the connection was lost, or LISTEN was
    /// just (re)established and anything sent before it went unheard. Re-check whatever you wait for.
    /// </summary>
    void CatchUp();
}

/// <summary>
/// The ONE connection per Portal process that LISTENs: every channel its subscribers registered is
/// heard on it, and each notification goes to the subscribers of its channel only. Features never
/// open a LISTEN connection of their own (ADR 0051): each would be a connection held for the
/// process's lifetime, per replica.
/// <para>
/// While nothing happens the connection only waits (TCP keepalives, not queries, detect a dead
/// server). When it is lost, subscribers are told to catch up, and it is re-opened with a growing,
/// randomised delay (so that replicas that lost the server together do not return in lockstep);
/// once LISTEN is back in place they are told to catch up again.
/// </para>
/// </summary>
public sealed partial class PostgresNotifications : BackgroundService
{
    /// <summary>The listener's <c>application_name</c>, how operators (and tests) find its session in <c>pg_stat_activity</c>.</summary>
    public const string ApplicationName = "cogrion-portal-listener";

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaximumRetryDelay = TimeSpan.FromSeconds(30);

    private readonly IOptions<DatabaseOptions> database;
    private readonly MigrationStatus migrations;
    private readonly TimeProvider time;
    private readonly ILogger<PostgresNotifications> logger;
    private readonly IReadOnlyList<INotificationSubscriber> subscribers;
    private readonly Dictionary<string, INotificationSubscriber[]> byChannel;
    private readonly TaskCompletionSource listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PostgresNotifications(
        IOptions<DatabaseOptions> database,
        IEnumerable<INotificationSubscriber> subscribers,
        MigrationStatus migrations,
        TimeProvider time,
        ILogger<PostgresNotifications> logger)
    {
        this.database = database;
        this.migrations = migrations;
        this.time = time;
        this.logger = logger;
        this.subscribers = subscribers.ToList();
        foreach (var subscriber in this.subscribers)
        {
            // The name goes into the LISTEN statement as is: only plain identifiers, never quoted ones.
            if (!ChannelName().IsMatch(subscriber.Channel))
                throw new ArgumentException($"'{subscriber.Channel}' ({subscriber.GetType().Name}) is not a valid channel name: use lower-case " +
                    $"letters, digits and '_'.", nameof(subscribers));
        }
        byChannel = this.subscribers.GroupBy(s => s.Channel, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
    }

    /// <summary>The channels this process listens on.</summary>
    public IReadOnlyCollection<string> Channels => byChannel.Keys;

    /// <summary>Completes once the first LISTEN is in place (tests and benchmarks wait for it).</summary>
    public Task Listening => listening.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (byChannel.Count == 0)
        {
            listening.TrySetResult();
            return; // Nobody listens: hold no connection.
        }
        try
        {
            await migrations.WaitUntilAppliedAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (MigrationException)
        {
            return; // The migration service stops the Portal.
        }

        var connectionString = new NpgsqlConnectionStringBuilder(database.Value.ConnectionString)
        {
            // A connection of its own, outside the pool: it lives as long as the process, and must
            // not be handed to anyone else with LISTENs still registered on it.
            Pooling = false,
            ApplicationName = ApplicationName,
            TcpKeepAlive = true,
            TcpKeepAliveTime = 30,
            TcpKeepAliveInterval = 5,
        }.ConnectionString;
        var listenAll = string.Join("; ", byChannel.Keys.Order(StringComparer.Ordinal).Select(channel => $"listen {channel}"));
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                connection.Notification += OnNotification;
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand(listenAll, connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                if (failures > 0)
                    logger.LogInformation("Database notifications are back ({Channels}); subscribers re-check what they may have missed",
                        string.Join(", ", byChannel.Keys));
                failures = 0;
                listening.TrySetResult();
                // Whatever was sent before this LISTEN (at start, or while the connection was down) went unheard.
                CatchUpAll();
                while (!stoppingToken.IsCancellationRequested)
                    await connection.WaitAsync(stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return; // Shutting down: whatever the connection threw on the way out does not matter.
            }
            catch (Exception ex)
            {
                failures++;
                var delay = RetryDelay(failures);
                logger.LogWarning("Lost the database notification connection ({Error}); retrying in {Delay} (attempt {Attempt}); features fall " +
                    "back to their slow polls meanwhile",
                    ex.Message, delay, failures);
                // Everything may be missed from now on: let the workers claim, the pages reload, the long polls re-read.
                CatchUpAll();
                try
                {
                    await Task.Delay(delay, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>1 s, 2 s, 4 s … up to 30 s, each taken at random between half and all of it.</summary>
    internal static TimeSpan RetryDelay(int failures)
    {
        var ceiling = Math.Min(MaximumRetryDelay.TotalMilliseconds, FirstRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 10)));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + Random.Shared.NextDouble() / 2));
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (!byChannel.TryGetValue(e.Channel, out var listeners)) return;
        foreach (var subscriber in listeners)
        {
            try
            {
                subscriber.OnNotification(e.Payload);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // One broken subscriber must not starve the others or drop the connection.
                logger.LogError(ex, "{Subscriber} failed on a notification on {Channel}", subscriber.GetType().Name, e.Channel);
            }
        }
    }

    private void CatchUpAll()
    {
        foreach (var subscriber in subscribers)
        {
            try
            {
                subscriber.CatchUp();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                logger.LogError(ex, "{Subscriber} failed to catch up", subscriber.GetType().Name);
            }
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex ChannelName();
}
