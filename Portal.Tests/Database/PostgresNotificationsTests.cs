using System.Collections.Concurrent;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Tests.Database;

/// <summary>The process's one LISTEN connection, against the real PostgreSQL: fan-out, isolation of channels, reconnection.</summary>
public sealed class PostgresNotificationsTests : IAsyncLifetime
{
    private PostgresServer server = null!;
    private string database = null!;
    private readonly List<PostgresNotifications> started = [];

    public async Task InitializeAsync()
    {
        server = await PostgresServer.GetAsync();
        database = await server.CreateEmptyDatabaseAsync("notify");
    }

    public async Task DisposeAsync()
    {
        foreach (var listener in started)
        {
            await listener.StopAsync(CancellationToken.None);
            listener.Dispose();
        }
        await server.DropDatabaseAsync(database);
    }

    [Fact]
    public async Task A_notification_reaches_every_subscriber_of_its_channel()
    {
        var first = new RecordingSubscriber("alpha");
        var second = new RecordingSubscriber("alpha");
        await StartAsync(first, second);

        await NotifyAsync("alpha", "hello");

        await first.HeardAsync("hello");
        await second.HeardAsync("hello");
    }

    [Fact]
    public async Task A_subscriber_does_not_hear_another_channel()
    {
        var alpha = new RecordingSubscriber("alpha");
        var beta = new RecordingSubscriber("beta");
        await StartAsync(alpha, beta);

        // One connection delivers in commit order: once alpha has its own, beta's came before it.
        await NotifyAsync("beta", "for-beta");
        await NotifyAsync("alpha", "for-alpha");
        await alpha.HeardAsync("for-alpha");
        await beta.HeardAsync("for-beta");

        Assert.Equal(["for-alpha"], alpha.Payloads);
        Assert.Equal(["for-beta"], beta.Payloads);
    }

    [Fact]
    public async Task All_channels_share_one_connection()
    {
        await StartAsync(new RecordingSubscriber("alpha"), new RecordingSubscriber("beta"), new RecordingSubscriber("gamma"));

        Assert.Equal(1, await CountListeningSessionsAsync(database));
    }

    [Fact]
    public async Task Subscribers_catch_up_once_listening_starts_since_anything_sent_before_went_unheard()
    {
        var subscriber = new RecordingSubscriber("alpha");
        await StartAsync(subscriber);

        await Eventually.ValueAsync(() => Task.FromResult(subscriber.CatchUps), n => n >= 1, "the first catch-up");
    }

    [Fact]
    public async Task After_its_connection_is_killed_the_listener_reconnects_and_subscribers_catch_up()
    {
        var subscriber = new RecordingSubscriber("alpha");
        await StartAsync(subscriber);
        var before = subscriber.CatchUps;
        var killed = await ListenerBackendAsync();

        await using (var admin = new NpgsqlConnection(server.ConnectionString(database)))
            Assert.True(await admin.ExecuteScalarAsync<bool>("select pg_terminate_backend(@killed)", new { killed }));

        // Told on the loss and again once LISTEN is back, on a new session.
        await Eventually.ValueAsync(() => Task.FromResult(subscriber.CatchUps), n => n >= before + 2, "catch-ups after the reconnect");
        var replacement = await Eventually.ValueAsync(ListenerBackendAsync, pid => pid != 0 && pid != killed, "a new listener session");
        Assert.NotEqual(killed, replacement);
        await NotifyAsync("alpha", "after");
        await subscriber.HeardAsync("after");
    }

    [Fact]
    public async Task A_Portal_process_holds_exactly_one_LISTEN_connection()
    {
        var portalDatabase = await server.CreateMigratedDatabaseAsync("onelisten");
        try
        {
            await using (var portal = await PortalServer.StartAsync(server.ConnectionString(portalDatabase)))
            {
                // The job engine, the agent commands, the ended sessions and the tenant pages' changes subscribe; none opens a
                // connection of its own.
                Assert.Equal(1, await CountListeningSessionsAsync(portalDatabase));
                Assert.Equal(["agent_commands", "authentication_sessions_ended", "portal_jobs", "tenant_changes"], portal.Get<PostgresNotifications>()
                    .Channels.Order(StringComparer.Ordinal));
            }
        }
        finally
        {
            await server.DropDatabaseAsync(portalDatabase);
        }
    }

    private async Task StartAsync(params INotificationSubscriber[] subscribers)
    {
        var status = new MigrationStatus();
        status.MarkApplied(0);
        var listener = new PostgresNotifications(
            Options.Create(new DatabaseOptions { ConnectionString = server.ConnectionString(database) }),
            subscribers, status, TimeProvider.System, NullLogger<PostgresNotifications>.Instance);
        started.Add(listener);
        await listener.StartAsync(CancellationToken.None);
        await listener.Listening.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private async Task NotifyAsync(string channel, string payload)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString(database));
        await connection.ExecuteAsync("select pg_notify(@channel, @payload)", new { channel, payload });
    }

    private async Task<int> ListenerBackendAsync()
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString(database));
        return await connection.ExecuteScalarAsync<int?>("""
            select pid from pg_stat_activity where datname = @database and application_name = @name and query ilike 'listen%'
            """, new { database, name = PostgresNotifications.ApplicationName }) ?? 0;
    }

    /// <summary>Sessions of the database whose last statement was a LISTEN: what holds LISTENs, whatever its application name.</summary>
    private async Task<int> CountListeningSessionsAsync(string databaseName)
    {
        await using var connection = new NpgsqlConnection(server.AdminConnectionString);
        return await connection.ExecuteScalarAsync<int>("""
            select count(*)::int from pg_stat_activity where datname = @databaseName and query ilike 'listen%'
            """, new { databaseName });
    }

    private sealed class RecordingSubscriber(string channel) : INotificationSubscriber
    {
        private readonly ConcurrentQueue<string> payloads = new();
        private int catchUps;

        public string Channel => channel;
        public IReadOnlyList<string> Payloads => payloads.ToList();
        public int CatchUps => Volatile.Read(ref catchUps);

        public void OnNotification(string payload) => payloads.Enqueue(payload);

        public void CatchUp() => Interlocked.Increment(ref catchUps);

        public Task HeardAsync(string payload) =>
            Eventually.ValueAsync(() => Task.FromResult(Payloads), heard => heard.Contains(payload), $"'{payload}' on {channel}",
                TimeSpan.FromSeconds(10));
    }
}
